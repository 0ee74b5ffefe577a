/**
 * The Kconfig parser: statements and options of Linux 6.1's parser.y, building
 * the menu tree through menu-builder.ts (menu.c's actions), then
 * menu_finalize() (finalize.ts). Tokens of one statement are read by
 * statement.ts. Pure: files, globs and `$(shell,…)` come
 * from the injected {@link KconfigHost}.
 */
import { KilnError } from "../core/errors.js";
import { and, symExpr } from "./expr.js";
import { finalizeTree } from "./finalize.js";
import { FileLexer, type Line } from "./lexer.js";
import { type MacroHost, Preprocessor } from "./macro.js";
import { type KconfigPos, MenuBuilder } from "./menu-builder.js";
import { checkRecursiveDeps } from "./recursive.js";
import { Statement } from "./statement.js";
import { strhashOrder } from "./symbols.js";
import type { KconfigTree, SymType } from "./types.js";
import { F } from "./types.js";

/** The outside world of a parse: file reads, globs, environment, shell. */
export interface KconfigHost extends MacroHost {
  /** Reads a Kconfig file by the path `source` names (relative to the source tree); undefined if absent. */
  readFile(path: string): string | undefined;
  /** Paths matching a glob pattern, sorted; used by source statements with wildcards. */
  glob?(pattern: string): string[];
}

interface Ctx {
  lex: FileLexer;
  pending: Statement | undefined;
}

const TYPE_WORDS: Record<string, SymType> = {
  bool: "bool",
  tristate: "tristate",
  int: "int",
  hex: "hex",
  string: "string",
};

/** Dialect differences of a tree's own copy of scripts/kconfig. */
export interface ParseOptions {
  /**
   * Unikraft's support/kconfig: every `source` is a glob, and one matching no
   * file is skipped without an error (patch 09-support-glob-in-kconfig,
   * `zconf_nextfiles()` calling glob(3) and returning on no match); the tree
   * gets the `unikraft` dialect's semantics (types.ts `KconfigDialect`).
   */
  sourceGlob?: boolean;
}

/** Parses the Kconfig tree rooted at `entryFile` (conf_parse + menu_finalize). */
export function parseKconfig(entryFile: string, host: KconfigHost, opts: ParseOptions = {}): KconfigTree {
  return new Parser(host, opts).run(entryFile);
}

class Parser {
  private readonly pre: Preprocessor;
  private readonly b: MenuBuilder;
  private readonly fileStack: string[] = [];

  constructor(
    private readonly host: KconfigHost,
    private readonly opts: ParseOptions = {},
  ) {
    this.pre = new Preprocessor(host);
    this.b = new MenuBuilder(opts.sourceGlob ? "unikraft" : "linux-6.1");
  }

  run(entryFile: string): KconfigTree {
    const { tree } = this.b;
    tree.root.pos = { file: entryFile, line: 1 };
    this.parseFile(entryFile, undefined, true);
    tree.modules = this.b.modulesSym ?? tree.n;
    if (!tree.root.prompt) {
      this.b.currentEntry = tree.root;
      this.b.addPrompt("menu", "Main menu", undefined, tree.root.pos);
    }
    finalizeTree(tree);
    tree.hashOrder = strhashOrder([...tree.syms.values(), ...tree.consts.values()], tree.choices);
    checkRecursiveDeps(tree);
    for (const [k, v] of this.pre.envUsed) tree.env[k] = v;
    return tree;
  }

  // ---- files ---------------------------------------------------------------

  private parseFile(path: string, from: KconfigPos | undefined, top = false): void {
    if (this.fileStack.includes(path)) {
      throw new KilnError(
        "KCONFIG_RECURSIVE_SOURCE",
        `${from?.file}:${from?.line}: recursive inclusion of "${path}"`,
        {
          location: from ? { ...from, col: 1 } : undefined,
          details: this.fileStack.map((f) => `  included from ${f}`),
        },
      );
    }
    const text = this.host.readFile(path);
    if (text === undefined) {
      if (from) {
        throw new KilnError("KCONFIG_SOURCE", `${from.file}:${from.line}: can't open file "${path}"`, {
          location: { ...from, col: 1 },
        });
      }
      throw new KilnError("KCONFIG_SOURCE", `can't open Kconfig file "${path}"`);
    }
    this.b.tree.files.push(path);
    this.fileStack.push(path);
    const ctx: Ctx = { lex: new FileLexer(path, text, this.pre), pending: undefined };
    try {
      if (top) {
        const first = this.peek(ctx);
        if (first?.head === "mainmenu") {
          this.take(ctx);
          const s = first.str(1);
          this.b.currentEntry = this.b.tree.root;
          this.b.addPrompt("menu", s, undefined, { file: path, line: first.line.line });
          first.end(2);
        }
      }
      this.statements(ctx, undefined, false);
    } finally {
      this.fileStack.pop();
      this.b.tree.warnings.push(...ctx.lex.warnings);
    }
  }

  /** The next statement, left in place for the next take(). */
  private peek(ctx: Ctx): Statement | undefined {
    if (!ctx.pending) {
      const l = ctx.lex.next();
      ctx.pending = l && new Statement(l, ctx.lex, this.b);
    }
    return ctx.pending;
  }

  private take(ctx: Ctx): Statement | undefined {
    const s = this.peek(ctx);
    ctx.pending = undefined;
    return s;
  }

  private pos(ctx: Ctx, s: Statement): KconfigPos {
    return { file: ctx.lex.file, line: s.line.line };
  }

  // ---- statements ----------------------------------------------------------

  /** Parses statements until `end` (endmenu/endchoice/endif) or end of file. */
  private statements(ctx: Ctx, end: { kw: string; opened: Line } | undefined, inChoice: boolean): void {
    for (;;) {
      const s = this.take(ctx);
      if (!s) {
        if (end) {
          throw ctx.lex.syntaxError(`missing '${end.kw}' for the block opened here`, end.opened, 1);
        }
        return;
      }
      const l = s.line;
      const head = s.head;
      const pos = this.pos(ctx, s);
      switch (head) {
        case "endmenu":
        case "endchoice":
        case "endif": {
          if (l.tokens.length > 1) throw s.err(1, `unexpected '${l.tokens[1]?.v}' after '${head}'`);
          if (!end) throw s.err(0, `unexpected '${head}' statement`);
          if (end.kw !== head) {
            throw s.err(0, `unexpected '${head}' within ${end.kw.slice(3)} block`);
          }
          this.b.endMenu();
          return;
        }
        case "config":
        case "menuconfig": {
          if (inChoice && head === "menuconfig") throw s.err(0, "invalid statement in a choice");
          const name = s.word(1);
          s.end(2);
          const sym = this.b.lookup(name);
          sym.flags |= F.OPTIONAL;
          const node = this.b.addEntry(sym, "symbol", pos);
          node.isMenuconfig = head === "menuconfig";
          this.entryOptions(ctx, "config");
          if (node.isMenuconfig) {
            if (node.prompt) node.prompt.kind = "menu";
            else this.b.warn(pos, "menuconfig statement without prompt");
          }
          break;
        }
        case "choice": {
          if (inChoice) throw s.err(0, "invalid statement in a choice");
          const named = l.tokens[1]?.t === "word";
          const sym = this.b.newChoice(named ? (l.tokens[1]?.v ?? "") : "");
          s.end(named ? 2 : 1);
          this.b.addEntry(sym, "choice", pos);
          this.entryOptions(ctx, "choice");
          this.b.addMenu();
          this.statements(ctx, { kw: "endchoice", opened: l }, true);
          break;
        }
        case "comment": {
          const text = s.str(1);
          s.end(2);
          this.b.addEntry(undefined, "comment", pos);
          this.b.addPrompt("comment", text, undefined, pos);
          this.dependsOnly(ctx, false);
          break;
        }
        case "menu": {
          if (inChoice) throw s.err(0, "invalid statement in a choice");
          const text = s.str(1);
          s.end(2);
          this.b.addEntry(undefined, "menu", pos);
          this.b.addPrompt("menu", text, undefined, pos);
          this.dependsOnly(ctx, true);
          this.b.addMenu();
          this.statements(ctx, { kw: "endmenu", opened: l }, false);
          break;
        }
        case "if": {
          const { expr, next } = s.expr(1);
          s.end(next);
          const node = this.b.addEntry(undefined, "if", pos);
          node.dep = and(node.dep, expr);
          this.b.addMenu();
          this.statements(ctx, { kw: "endif", opened: l }, inChoice);
          break;
        }
        case "source":
        case "rsource":
        case "osource":
        case "orsource": {
          if (inChoice) throw s.err(0, "invalid statement in a choice");
          const name = s.str(1);
          s.end(2);
          this.source(head, name, ctx, s);
          break;
        }
        case "mainmenu":
          throw s.err(0, "'mainmenu' is allowed only as the first statement of the top Kconfig file");
        case "word": {
          const op = l.tokens[1]?.t;
          if (!inChoice && (op === "=" || op === ":=" || op === "+=")) {
            this.pre.assign(l.tokens[0]?.v ?? "", l.tokens[2]?.v ?? "", op);
            break;
          }
          throw s.err(0, `unknown statement "${l.tokens[0]?.v}"`);
        }
        default:
          throw s.err(0, `invalid statement: '${l.tokens[0]?.v}' is not allowed here`);
      }
    }
  }

  private source(kind: string, name: string, ctx: Ctx, s: Statement): void {
    const relative = kind === "rsource" || kind === "orsource";
    const optional = kind === "osource" || kind === "orsource";
    let path = name;
    if (relative && !name.startsWith("/")) {
      const dir = ctx.lex.file.includes("/") ? ctx.lex.file.slice(0, ctx.lex.file.lastIndexOf("/")) : ".";
      path = dir === "." ? name : `${dir}/${name}`;
    }
    const from = this.pos(ctx, s);
    if (this.opts.sourceGlob && kind === "source") {
      const matches = /[*?[]/.test(path)
        ? (this.host.glob?.(path) ?? [])
        : this.host.readFile(path) === undefined
          ? []
          : [path];
      for (const p of matches) this.parseFile(p, from);
      return;
    }
    if (/[*?[]/.test(path)) {
      const matches = this.host.glob?.(path) ?? [];
      if (matches.length === 0 && !optional) {
        throw ctx.lex.syntaxError(`"${path}" does not exist`, s.line, s.line.tokens[1]?.col ?? 1);
      }
      for (const p of matches) this.parseFile(p, from);
      return;
    }
    if (optional && this.host.readFile(path) === undefined) return;
    this.parseFile(path, from);
  }

  // ---- options -------------------------------------------------------------

  /**
   * The options of a `config`/`menuconfig` entry or of a `choice` (parser.y's
   * config_option_list and choice_option_list): the arms both share, then
   * each kind's own. Returns at the first line that is not an option.
   */
  private entryOptions(ctx: Ctx, kind: "config" | "choice"): void {
    for (;;) {
      const s = this.peek(ctx);
      if (!s) return;
      const head = s.head;
      const pos = this.pos(ctx, s);
      const type =
        kind === "config" ? TYPE_WORDS[head] : head === "bool" || head === "tristate" ? head : undefined;
      if (type) {
        this.take(ctx);
        this.b.setType(type, pos);
        this.optPrompt(ctx, s, 1);
        continue;
      }
      if (head === "prompt") {
        this.take(ctx);
        const text = s.str(1);
        this.b.addPrompt("prompt", text, s.ifThenEnd(2), pos);
      } else if (head === "depends") {
        this.take(ctx);
        this.depends(s);
      } else if (head === "help") {
        this.take(ctx);
        s.end(1);
        this.b.currentEntry.help = ctx.lex.help();
      } else if (!(kind === "config" ? this.configOption(s, pos) : this.choiceOption(s, pos))) return;
      else this.take(ctx);
    }
  }

  /** A `config`-only option; false when `s` is none. */
  private configOption(s: Statement, pos: KconfigPos): boolean {
    const head = s.head;
    switch (head) {
      case "default":
      case "def_bool":
      case "def_tristate": {
        const { expr, next } = s.expr(1);
        this.b.addProp("default", expr, s.ifThenEnd(next), pos);
        if (head !== "default") this.b.setType(head === "def_bool" ? "bool" : "tristate", pos);
        return true;
      }
      case "select":
      case "imply": {
        const target = this.b.lookup(s.word(1));
        this.b.addProp(head, symExpr(target), s.ifThenEnd(2), pos);
        return true;
      }
      case "range": {
        const a = s.symbolAt(1);
        const b = s.symbolAt(2);
        const p = this.b.addProp("range", undefined, s.ifThenEnd(3), pos);
        p.range = [a, b];
        return true;
      }
      case "modules": {
        s.end(1);
        if (this.b.modulesSym) {
          throw s.err(
            0,
            `symbol '${this.b.currentEntry.sym?.name}' redefines option 'modules' already defined by symbol '${this.b.modulesSym.name}'`,
          );
        }
        this.b.modulesSym = this.b.currentEntry.sym;
        return true;
      }
      default:
        return false;
    }
  }

  /** A `choice`-only option; false when `s` is none. */
  private choiceOption(s: Statement, pos: KconfigPos): boolean {
    if (s.head === "optional") {
      s.end(1);
      if (this.b.currentEntry.sym) this.b.currentEntry.sym.flags |= F.OPTIONAL;
      return true;
    }
    if (s.head === "default") {
      const target = this.b.lookup(s.word(1));
      this.b.addProp("default", symExpr(target), s.ifThenEnd(2), pos);
      return true;
    }
    return false;
  }

  /** Options of `comment` (depends on) and `menu` (depends on, visible if). */
  private dependsOnly(ctx: Ctx, menu: boolean): void {
    for (;;) {
      const s = this.peek(ctx);
      if (!s) return;
      if (s.head === "depends") {
        this.take(ctx);
        this.depends(s);
      } else if (menu && s.head === "visible") {
        this.take(ctx);
        const entry = this.b.currentEntry;
        entry.visibility = and(entry.visibility, s.ifThenEnd(1));
      } else return;
    }
  }

  private depends(s: Statement): void {
    if (s.line.tokens[1]?.t !== "on") throw s.err(1, "expected 'on' after 'depends'");
    const { expr, next } = s.expr(2);
    s.end(next);
    this.b.currentEntry.dep = and(this.b.currentEntry.dep, expr);
  }

  /** The prompt a type word may carry (`bool "Text" if COND`). */
  private optPrompt(ctx: Ctx, s: Statement, i: number): void {
    if (s.line.tokens[i]?.t === "str") {
      const text = s.line.tokens[i]?.v ?? "";
      this.b.addPrompt("prompt", text, s.ifThenEnd(i + 1), this.pos(ctx, s));
    } else s.end(i);
  }
}
