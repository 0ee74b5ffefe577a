/**
 * The Kconfig parser: statements and options of Linux 6.1's parser.y, building
 * the menu tree the way menu.c does (menu_add_entry, menu_add_prompt applying
 * enclosing `visible if`s, menu_set_type keeping the first type), then
 * menu_finalize() (finalize.ts). Pure: files, globs and `$(shell,…)` come
 * from the injected {@link KconfigHost}.
 */
import { KilnError } from "../core/errors.js";
import { and, symExpr } from "./expr.js";
import { finalizeTree } from "./finalize.js";
import { FileLexer, type Line, type Token } from "./lexer.js";
import { type MacroHost, Preprocessor } from "./macro.js";
import { checkRecursiveDeps } from "./recursive.js";
import { newSym, strhashOrder } from "./symbols.js";
import type { Expr, KconfigTree, MenuNode, Prop, PropKind, Sym, SymType } from "./types.js";
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
  pending: Line | undefined;
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
  private readonly tree: KconfigTree;
  private currentMenu: MenuNode;
  private currentEntry: MenuNode;
  /** Where the next entry is linked (C's last_entry_ptr). */
  private lastEntry: { node: MenuNode; field: "list" | "next" };
  private readonly fileStack: string[] = [];
  private modulesSym: Sym | undefined;
  private nextId = 0;

  constructor(
    private readonly host: KconfigHost,
    private readonly opts: ParseOptions = {},
  ) {
    this.pre = new Preprocessor(host);
    const mk = (name: string, tri: 0 | 1 | 2): Sym => {
      // symbol.c's symbol_yes/mod/no have no type (S_UNKNOWN): compared as strings
      const s = newSym(name, -1);
      s.flags = F.CONST | F.VALID;
      s.curTri = tri;
      s.curVal = name;
      return s;
    };
    const y = mk("y", 2);
    const m = mk("m", 1);
    const n = mk("n", 0);
    const empty = newSym("", -1);
    empty.flags = F.CONST | F.VALID;
    const root: MenuNode = {
      sym: undefined,
      prompt: undefined,
      kind: "root",
      dep: undefined,
      visibility: undefined,
      help: undefined,
      parent: undefined,
      list: undefined,
      next: undefined,
      pos: { file: "", line: 0 },
      isMenuconfig: false,
    };
    this.tree = {
      root,
      syms: new Map(),
      consts: new Map(),
      choices: [],
      y,
      m,
      n,
      empty,
      modules: n,
      warnings: [],
      files: [],
      env: {},
      modulesVal: 0,
      hashOrder: [],
      dialect: opts.sourceGlob ? "unikraft" : "linux-6.1",
    };
    this.currentMenu = root;
    this.currentEntry = root;
    this.lastEntry = { node: root, field: "list" };
  }

  run(entryFile: string): KconfigTree {
    this.tree.root.pos = { file: entryFile, line: 1 };
    this.parseFile(entryFile, undefined, true);
    this.tree.modules = this.modulesSym ?? this.tree.n;
    if (!this.tree.root.prompt) {
      this.currentEntry = this.tree.root;
      this.addPrompt("menu", "Main menu", undefined, this.tree.root.pos);
    }
    finalizeTree(this.tree);
    this.tree.hashOrder = strhashOrder(
      [...this.tree.syms.values(), ...this.tree.consts.values()],
      this.tree.choices,
    );
    checkRecursiveDeps(this.tree);
    for (const [k, v] of this.pre.envUsed) this.tree.env[k] = v;
    return this.tree;
  }

  // ---- symbols -------------------------------------------------------------

  private lookup(name: string): Sym {
    if (name === "y") return this.tree.y;
    if (name === "m") return this.tree.m;
    if (name === "n") return this.tree.n;
    let s = this.tree.syms.get(name);
    if (!s) {
      s = newSym(name, this.nextId++);
      this.tree.syms.set(name, s);
    }
    return s;
  }

  private lookupConst(name: string): Sym {
    if (name === "y") return this.tree.y;
    if (name === "m") return this.tree.m;
    if (name === "n") return this.tree.n;
    let s = this.tree.consts.get(name);
    if (!s) {
      s = newSym(name, this.nextId++);
      s.flags = F.CONST;
      this.tree.consts.set(name, s);
    }
    return s;
  }

  // ---- menu building (menu.c) ---------------------------------------------

  private addEntry(
    sym: Sym | undefined,
    kind: MenuNode["kind"],
    pos: { file: string; line: number },
  ): MenuNode {
    const node: MenuNode = {
      sym,
      prompt: undefined,
      kind,
      dep: undefined,
      visibility: undefined,
      help: undefined,
      parent: this.currentMenu,
      list: undefined,
      next: undefined,
      pos,
      isMenuconfig: false,
    };
    this.lastEntry.node[this.lastEntry.field] = node;
    this.lastEntry = { node, field: "next" };
    this.currentEntry = node;
    if (sym) sym.nodes.push(node);
    return node;
  }

  private addMenu(): void {
    this.lastEntry = { node: this.currentEntry, field: "list" };
    this.currentMenu = this.currentEntry;
  }

  private endMenu(): void {
    this.lastEntry = { node: this.currentMenu, field: "next" };
    this.currentMenu = this.currentMenu.parent ?? this.tree.root;
  }

  private addProp(
    kind: PropKind,
    expr: Expr | undefined,
    cond: Expr | undefined,
    pos: { file: string; line: number },
  ): Prop {
    const prop: Prop = { kind, expr, cond, node: this.currentEntry, pos, visTri: 0 };
    this.currentEntry.sym?.props.push(prop);
    return prop;
  }

  private addPrompt(
    kind: "prompt" | "menu" | "comment",
    text: string,
    cond: Expr | undefined,
    pos: { file: string; line: number },
  ): void {
    let t = text;
    if (/^\s/.test(t)) {
      this.warn(pos, `leading whitespace ignored`);
      t = t.replace(/^\s+/, "");
    }
    if (this.currentEntry.prompt) this.warn(pos, "prompt redefined");
    let c = cond;
    if (kind === "prompt") {
      // menu_add_prompt(): apply all upper menus' `visible if` to the prompt
      for (let m = this.currentEntry.parent; m; m = m.parent) {
        if (m.visibility) c = and(c, m.visibility);
      }
    }
    const prop = this.addProp(kind, undefined, c, pos);
    prop.text = t;
    this.currentEntry.prompt = prop;
  }

  private setType(type: SymType, pos: { file: string; line: number }): void {
    const sym = this.currentEntry.sym;
    if (!sym || sym.type === type) return;
    if (sym.type === "unknown") {
      sym.type = type;
      return;
    }
    this.warn(
      pos,
      `ignoring type redefinition of '${sym.name}' from '${sym.type === "bool" ? "boolean" : sym.type}' to '${type === "bool" ? "boolean" : type}'`,
    );
  }

  private warn(pos: { file: string; line: number }, msg: string): void {
    this.tree.warnings.push(`${pos.file}:${pos.line}:warning: ${msg}`);
  }

  // ---- files ---------------------------------------------------------------

  private parseFile(path: string, from: { file: string; line: number } | undefined, top = false): void {
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
    this.tree.files.push(path);
    this.fileStack.push(path);
    const ctx: Ctx = { lex: new FileLexer(path, text, this.pre), pending: undefined };
    try {
      if (top) {
        const first = this.peek(ctx);
        if (first?.tokens[0]?.t === "mainmenu") {
          this.take(ctx);
          const s = this.expectStr(ctx, first, 1);
          this.currentEntry = this.tree.root;
          this.addPrompt("menu", s, undefined, { file: path, line: first.line });
          this.expectEnd(ctx, first, 2);
        }
      }
      this.statements(ctx, undefined, false);
    } finally {
      this.fileStack.pop();
      this.tree.warnings.push(...ctx.lex.warnings);
    }
  }

  private peek(ctx: Ctx): Line | undefined {
    if (!ctx.pending) ctx.pending = ctx.lex.next();
    return ctx.pending;
  }

  private take(ctx: Ctx): Line | undefined {
    const l = this.peek(ctx);
    ctx.pending = undefined;
    return l;
  }

  private pos(ctx: Ctx, l: Line): { file: string; line: number } {
    return { file: ctx.lex.file, line: l.line };
  }

  private err(ctx: Ctx, l: Line, tokIndex: number, message: string): KilnError {
    const tok = l.tokens[tokIndex];
    return ctx.lex.syntaxError(message, l, tok ? tok.col : l.text.length + 1);
  }

  // ---- statements ----------------------------------------------------------

  /** Parses statements until `end` (endmenu/endchoice/endif) or end of file. */
  private statements(ctx: Ctx, end: { kw: string; opened: Line } | undefined, inChoice: boolean): void {
    for (;;) {
      const l = this.take(ctx);
      if (!l) {
        if (end) {
          throw ctx.lex.syntaxError(`missing '${end.kw}' for the block opened here`, end.opened, 1);
        }
        return;
      }
      const t0 = l.tokens[0] as Token;
      const pos = this.pos(ctx, l);
      switch (t0.t) {
        case "endmenu":
        case "endchoice":
        case "endif": {
          if (l.tokens.length > 1)
            throw this.err(ctx, l, 1, `unexpected '${l.tokens[1]?.v}' after '${t0.t}'`);
          if (!end) throw this.err(ctx, l, 0, `unexpected '${t0.t}' statement`);
          if (end.kw !== t0.t) {
            throw this.err(ctx, l, 0, `unexpected '${t0.t}' within ${end.kw.slice(3)} block`);
          }
          this.endMenu();
          return;
        }
        case "config":
        case "menuconfig": {
          if (inChoice && t0.t === "menuconfig") throw this.err(ctx, l, 0, "invalid statement in a choice");
          const name = this.expectWord(ctx, l, 1);
          this.expectEnd(ctx, l, 2);
          const sym = this.lookup(name);
          sym.flags |= F.OPTIONAL;
          const node = this.addEntry(sym, "symbol", pos);
          node.isMenuconfig = t0.t === "menuconfig";
          this.configOptions(ctx);
          if (node.isMenuconfig) {
            if (node.prompt) node.prompt.kind = "menu";
            else this.warn(pos, "menuconfig statement without prompt");
          }
          break;
        }
        case "choice": {
          if (inChoice) throw this.err(ctx, l, 0, "invalid statement in a choice");
          const sym = newSym(l.tokens[1]?.t === "word" ? (l.tokens[1]?.v ?? "") : "", this.nextId++);
          this.expectEnd(ctx, l, l.tokens[1]?.t === "word" ? 2 : 1);
          sym.flags = F.CHOICE | F.NO_WRITE;
          this.tree.choices.push(sym);
          this.addEntry(sym, "choice", pos);
          this.choiceOptions(ctx);
          this.addMenu();
          this.statements(ctx, { kw: "endchoice", opened: l }, true);
          break;
        }
        case "comment": {
          const text = this.expectStr(ctx, l, 1);
          this.expectEnd(ctx, l, 2);
          this.addEntry(undefined, "comment", pos);
          this.addPrompt("comment", text, undefined, pos);
          this.dependsOnly(ctx, false);
          break;
        }
        case "menu": {
          if (inChoice) throw this.err(ctx, l, 0, "invalid statement in a choice");
          const text = this.expectStr(ctx, l, 1);
          this.expectEnd(ctx, l, 2);
          this.addEntry(undefined, "menu", pos);
          this.addPrompt("menu", text, undefined, pos);
          this.dependsOnly(ctx, true);
          this.addMenu();
          this.statements(ctx, { kw: "endmenu", opened: l }, false);
          break;
        }
        case "if": {
          const { expr, next } = this.expr(ctx, l, 1);
          this.expectEnd(ctx, l, next);
          const node = this.addEntry(undefined, "if", pos);
          node.dep = and(node.dep, expr);
          this.addMenu();
          this.statements(ctx, { kw: "endif", opened: l }, inChoice);
          break;
        }
        case "source":
        case "rsource":
        case "osource":
        case "orsource": {
          if (inChoice) throw this.err(ctx, l, 0, "invalid statement in a choice");
          const name = this.expectStr(ctx, l, 1);
          this.expectEnd(ctx, l, 2);
          this.source(t0.t, name, ctx, l);
          break;
        }
        case "mainmenu":
          throw this.err(
            ctx,
            l,
            0,
            "'mainmenu' is allowed only as the first statement of the top Kconfig file",
          );
        case "word": {
          const op = l.tokens[1]?.t;
          if (!inChoice && (op === "=" || op === ":=" || op === "+=")) {
            this.pre.assign(t0.v, l.tokens[2]?.v ?? "", op);
            break;
          }
          throw this.err(ctx, l, 0, `unknown statement "${t0.v}"`);
        }
        default:
          throw this.err(ctx, l, 0, `invalid statement: '${t0.v}' is not allowed here`);
      }
    }
  }

  private source(kind: string, name: string, ctx: Ctx, l: Line): void {
    const relative = kind === "rsource" || kind === "orsource";
    const optional = kind === "osource" || kind === "orsource";
    let path = name;
    if (relative && !name.startsWith("/")) {
      const dir = ctx.lex.file.includes("/") ? ctx.lex.file.slice(0, ctx.lex.file.lastIndexOf("/")) : ".";
      path = dir === "." ? name : `${dir}/${name}`;
    }
    const from = this.pos(ctx, l);
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
        throw ctx.lex.syntaxError(`"${path}" does not exist`, l, l.tokens[1]?.col ?? 1);
      }
      for (const p of matches) this.parseFile(p, from);
      return;
    }
    if (optional && this.host.readFile(path) === undefined) return;
    this.parseFile(path, from);
  }

  // ---- options -------------------------------------------------------------

  private configOptions(ctx: Ctx): void {
    for (;;) {
      const l = this.peek(ctx);
      if (!l) return;
      const t = l.tokens[0] as Token;
      const pos = this.pos(ctx, l);
      const type = TYPE_WORDS[t.t];
      if (type) {
        this.take(ctx);
        this.setType(type, pos);
        this.optPrompt(ctx, l, 1);
        continue;
      }
      switch (t.t) {
        case "prompt": {
          this.take(ctx);
          const s = this.expectStr(ctx, l, 1);
          const { cond, next } = this.ifExpr(ctx, l, 2);
          this.expectEnd(ctx, l, next);
          this.addPrompt("prompt", s, cond, pos);
          continue;
        }
        case "default":
        case "def_bool":
        case "def_tristate": {
          this.take(ctx);
          const { expr, next } = this.expr(ctx, l, 1);
          const { cond, next: n2 } = this.ifExpr(ctx, l, next);
          this.expectEnd(ctx, l, n2);
          this.addProp("default", expr, cond, pos);
          if (t.t !== "default") this.setType(t.t === "def_bool" ? "bool" : "tristate", pos);
          continue;
        }
        case "select":
        case "imply": {
          this.take(ctx);
          const target = this.lookup(this.expectWord(ctx, l, 1));
          const { cond, next } = this.ifExpr(ctx, l, 2);
          this.expectEnd(ctx, l, next);
          this.addProp(t.t, symExpr(target), cond, pos);
          continue;
        }
        case "range": {
          this.take(ctx);
          const a = this.symbolAt(ctx, l, 1);
          const b = this.symbolAt(ctx, l, 2);
          const { cond, next } = this.ifExpr(ctx, l, 3);
          this.expectEnd(ctx, l, next);
          const p = this.addProp("range", undefined, cond, pos);
          p.range = [a, b];
          continue;
        }
        case "modules": {
          this.take(ctx);
          this.expectEnd(ctx, l, 1);
          if (this.modulesSym) {
            throw this.err(
              ctx,
              l,
              0,
              `symbol '${this.currentEntry.sym?.name}' redefines option 'modules' already defined by symbol '${this.modulesSym.name}'`,
            );
          }
          this.modulesSym = this.currentEntry.sym;
          continue;
        }
        case "depends":
          this.take(ctx);
          this.depends(ctx, l);
          continue;
        case "help":
          this.take(ctx);
          this.expectEnd(ctx, l, 1);
          this.currentEntry.help = ctx.lex.help();
          continue;
        default:
          return;
      }
    }
  }

  private choiceOptions(ctx: Ctx): void {
    for (;;) {
      const l = this.peek(ctx);
      if (!l) return;
      const t = l.tokens[0] as Token;
      const pos = this.pos(ctx, l);
      switch (t.t) {
        case "prompt": {
          this.take(ctx);
          const s = this.expectStr(ctx, l, 1);
          const { cond, next } = this.ifExpr(ctx, l, 2);
          this.expectEnd(ctx, l, next);
          this.addPrompt("prompt", s, cond, pos);
          continue;
        }
        case "bool":
        case "tristate":
          this.take(ctx);
          this.setType(t.t, pos);
          this.optPrompt(ctx, l, 1);
          continue;
        case "optional":
          this.take(ctx);
          this.expectEnd(ctx, l, 1);
          if (this.currentEntry.sym) this.currentEntry.sym.flags |= F.OPTIONAL;
          continue;
        case "default": {
          this.take(ctx);
          const target = this.lookup(this.expectWord(ctx, l, 1));
          const { cond, next } = this.ifExpr(ctx, l, 2);
          this.expectEnd(ctx, l, next);
          this.addProp("default", symExpr(target), cond, pos);
          continue;
        }
        case "depends":
          this.take(ctx);
          this.depends(ctx, l);
          continue;
        case "help":
          this.take(ctx);
          this.expectEnd(ctx, l, 1);
          this.currentEntry.help = ctx.lex.help();
          continue;
        default:
          return;
      }
    }
  }

  /** Options of `comment` (depends on) and `menu` (depends on, visible if). */
  private dependsOnly(ctx: Ctx, menu: boolean): void {
    for (;;) {
      const l = this.peek(ctx);
      if (!l) return;
      const t = l.tokens[0] as Token;
      if (t.t === "depends") {
        this.take(ctx);
        this.depends(ctx, l);
      } else if (menu && t.t === "visible") {
        this.take(ctx);
        const { cond, next } = this.ifExpr(ctx, l, 1);
        this.expectEnd(ctx, l, next);
        this.currentEntry.visibility = and(this.currentEntry.visibility, cond);
      } else return;
    }
  }

  private depends(ctx: Ctx, l: Line): void {
    if (l.tokens[1]?.t !== "on") throw this.err(ctx, l, 1, "expected 'on' after 'depends'");
    const { expr, next } = this.expr(ctx, l, 2);
    this.expectEnd(ctx, l, next);
    this.currentEntry.dep = and(this.currentEntry.dep, expr);
  }

  private optPrompt(ctx: Ctx, l: Line, i: number): void {
    if (l.tokens[i]?.t === "str") {
      const s = l.tokens[i]?.v ?? "";
      const { cond, next } = this.ifExpr(ctx, l, i + 1);
      this.expectEnd(ctx, l, next);
      this.addPrompt("prompt", s, cond, this.pos(ctx, l));
    } else this.expectEnd(ctx, l, i);
  }

  // ---- tokens and expressions ----------------------------------------------

  private expectWord(ctx: Ctx, l: Line, i: number): string {
    const t = l.tokens[i];
    if (t?.t !== "word")
      throw this.err(ctx, l, i, t ? `expected a symbol name, found '${t.v}'` : "expected a symbol name");
    return t.v;
  }

  private expectStr(ctx: Ctx, l: Line, i: number): string {
    const t = l.tokens[i];
    if (t?.t !== "str")
      throw this.err(ctx, l, i, t ? `expected a quoted string, found '${t.v}'` : "expected a quoted string");
    return t.v;
  }

  private expectEnd(ctx: Ctx, l: Line, i: number): void {
    const t = l.tokens[i];
    if (t) throw this.err(ctx, l, i, `unexpected '${t.v}' at end of statement`);
  }

  private ifExpr(ctx: Ctx, l: Line, i: number): { cond: Expr | undefined; next: number } {
    if (l.tokens[i]?.t !== "if") return { cond: undefined, next: i };
    const { expr, next } = this.expr(ctx, l, i + 1);
    return { cond: expr, next };
  }

  private symbolAt(ctx: Ctx, l: Line, i: number): Sym {
    const t = l.tokens[i];
    if (t?.t === "word") return this.lookup(t.v);
    if (t?.t === "str") return this.lookupConst(t.v);
    throw this.err(
      ctx,
      l,
      i,
      t ? `expected a symbol or a value, found '${t.v}'` : "expected a symbol or a value",
    );
  }

  /** expr: || lowest, then &&, then !, comparisons between two symbols. */
  private expr(ctx: Ctx, l: Line, i: number): { expr: Expr; next: number } {
    const toks = l.tokens;
    let p = i;
    const primary = (): Expr => {
      const t = toks[p];
      if (!t) throw this.err(ctx, l, p, "expected an expression");
      if (t.t === "!") {
        p++;
        return { k: "not", e: primary() };
      }
      if (t.t === "(") {
        p++;
        const e = orExpr();
        if (toks[p]?.t !== ")") throw this.err(ctx, l, p, "expected ')'");
        p++;
        return e;
      }
      const s = this.symbolAt(ctx, l, p);
      p++;
      const op = toks[p]?.t;
      if (op === "=" || op === "!=" || op === "<" || op === "<=" || op === ">" || op === ">=") {
        p++;
        const r = this.symbolAt(ctx, l, p);
        p++;
        return { k: "cmp", op, l: s, r };
      }
      return symExpr(s);
    };
    const andExpr = (): Expr => {
      let e = primary();
      while (toks[p]?.t === "&&") {
        p++;
        e = { k: "and", l: e, r: primary() };
      }
      return e;
    };
    const orExpr = (): Expr => {
      let e = andExpr();
      while (toks[p]?.t === "||") {
        p++;
        e = { k: "or", l: e, r: andExpr() };
      }
      return e;
    };
    const expr = orExpr();
    return { expr, next: p };
  }
}
