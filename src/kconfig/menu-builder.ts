/**
 * The menu tree under construction: what Linux 6.1's scripts/kconfig/menu.c
 * and symbol.c do while parser.y runs — symbol lookup (sym_lookup), entries
 * and submenus (menu_add_entry, menu_add_menu, menu_end_menu), properties
 * (menu_add_prop), prompts (menu_add_prompt, applying enclosing `visible if`s)
 * and types (menu_set_type, keeping the first type). The grammar lives in
 * parser.ts; this module holds the state the grammar's actions change.
 */
import { and } from "./expr.js";
import { newSym } from "./symbols.js";
import type { Expr, KconfigTree, MenuNode, Prop, PropKind, Sym, SymType } from "./types.js";
import { F } from "./types.js";

/** A source position in a Kconfig file. */
export interface KconfigPos {
  file: string;
  line: number;
}

/** The tree being built and the cursor (current menu, current entry) of menu.c. */
export class MenuBuilder {
  readonly tree: KconfigTree;
  currentMenu: MenuNode;
  currentEntry: MenuNode;
  /** Where the next entry is linked (C's last_entry_ptr). */
  private lastEntry: { node: MenuNode; field: "list" | "next" };
  /** The symbol carrying `option modules` / `modules`, if any. */
  modulesSym: Sym | undefined;
  private nextId = 0;

  constructor(dialect: KconfigTree["dialect"]) {
    const mk = (name: string, tri: 0 | 1 | 2): Sym => {
      // symbol.c's symbol_yes/mod/no have no type (S_UNKNOWN): compared as strings
      const s = newSym(name, -1);
      s.flags = F.CONST | F.VALID;
      s.curTri = tri;
      s.curVal = name;
      return s;
    };
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
      y: mk("y", 2),
      m: mk("m", 1),
      n,
      empty,
      modules: n,
      warnings: [],
      files: [],
      env: {},
      modulesVal: 0,
      hashOrder: [],
      dialect,
    };
    this.currentMenu = root;
    this.currentEntry = root;
    this.lastEntry = { node: root, field: "list" };
  }

  // ---- symbols (symbol.c sym_lookup) ---------------------------------------

  /** The named symbol, created on first use; `y`/`m`/`n` are the constants. */
  lookup(name: string): Sym {
    const fixed = this.fixed(name);
    if (fixed) return fixed;
    let s = this.tree.syms.get(name);
    if (!s) {
      s = newSym(name, this.nextId++);
      this.tree.syms.set(name, s);
    }
    return s;
  }

  /** A constant (a quoted value in an expression), one per distinct text. */
  lookupConst(name: string): Sym {
    const fixed = this.fixed(name);
    if (fixed) return fixed;
    let s = this.tree.consts.get(name);
    if (!s) {
      s = newSym(name, this.nextId++);
      s.flags = F.CONST;
      this.tree.consts.set(name, s);
    }
    return s;
  }

  /** A choice's own (possibly nameless) symbol, registered among the tree's choices. */
  newChoice(name: string): Sym {
    const sym = newSym(name, this.nextId++);
    sym.flags = F.CHOICE | F.NO_WRITE;
    this.tree.choices.push(sym);
    return sym;
  }

  private fixed(name: string): Sym | undefined {
    if (name === "y") return this.tree.y;
    if (name === "m") return this.tree.m;
    if (name === "n") return this.tree.n;
    return undefined;
  }

  // ---- menu building (menu.c) ---------------------------------------------

  addEntry(sym: Sym | undefined, kind: MenuNode["kind"], pos: KconfigPos): MenuNode {
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

  addMenu(): void {
    this.lastEntry = { node: this.currentEntry, field: "list" };
    this.currentMenu = this.currentEntry;
  }

  endMenu(): void {
    this.lastEntry = { node: this.currentMenu, field: "next" };
    this.currentMenu = this.currentMenu.parent ?? this.tree.root;
  }

  addProp(kind: PropKind, expr: Expr | undefined, cond: Expr | undefined, pos: KconfigPos): Prop {
    const prop: Prop = { kind, expr, cond, node: this.currentEntry, pos, visTri: 0 };
    this.currentEntry.sym?.props.push(prop);
    return prop;
  }

  addPrompt(
    kind: "prompt" | "menu" | "comment",
    text: string,
    cond: Expr | undefined,
    pos: KconfigPos,
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

  /** Gives the current entry's symbol a type, keeping the first one as menu_set_type() does. */
  setType(type: SymType, pos: KconfigPos): void {
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

  warn(pos: KconfigPos, msg: string): void {
    this.tree.warnings.push(`${pos.file}:${pos.line}:warning: ${msg}`);
  }
}
