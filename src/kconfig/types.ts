/**
 * The Kconfig data model: symbols, expressions, properties and the menu tree,
 * shaped after Linux 6.1's scripts/kconfig/expr.h so the evaluator can follow
 * symbol.c step by step (that is what makes the written `.config` identical).
 */

/** Tristate values: n = 0, m = 1, y = 2 (EXPR_AND is min, EXPR_OR is max). */
export type Tri = 0 | 1 | 2;

/** Symbol types (`S_UNKNOWN` … `S_STRING` in expr.h). */
export type SymType = "unknown" | "bool" | "tristate" | "int" | "hex" | "string";

/** Where something was written in a Kconfig file (1-based line). */
export interface Pos {
  file: string;
  line: number;
}

/** A Kconfig expression; comparisons hold symbols, as in the C grammar. */
export type Expr =
  | { k: "sym"; s: Sym }
  | { k: "not"; e: Expr }
  | { k: "and"; l: Expr; r: Expr }
  | { k: "or"; l: Expr; r: Expr }
  | { k: "cmp"; op: "=" | "!=" | "<" | "<=" | ">" | ">="; l: Sym; r: Sym };

/** Property kinds (`P_PROMPT`, `P_DEFAULT`, …). */
export type PropKind = "prompt" | "menu" | "comment" | "default" | "select" | "imply" | "range";

/** A property of a symbol or menu node. `cond` becomes the full visibility after finalizing. */
export interface Prop {
  kind: PropKind;
  /** default/select/imply: the value or target; range: `{k:"sym"}` pair is kept in `range`. */
  expr?: Expr;
  range?: [Sym, Sym];
  text?: string;
  cond: Expr | undefined;
  node: MenuNode;
  pos: Pos;
  /** Cached visibility (prop->visible.tri). */
  visTri: Tri;
}

/** Symbol flags we need from expr.h. */
export const F = {
  CONST: 0x1,
  CHOICE: 0x10,
  CHOICEVAL: 0x20,
  VALID: 0x80,
  OPTIONAL: 0x100,
  WRITE: 0x200,
  CHANGED: 0x400,
  WRITTEN: 0x800,
  NO_WRITE: 0x1000,
  DEF_USER: 0x10000,
  NEED_SET_CHOICE_VALUES: 0x100000,
  WARNED: 0x8000,
} as const;

/** A symbol (or a choice, which C models as a nameless symbol with SYMBOL_CHOICE). */
export interface Sym {
  name: string;
  type: SymType;
  flags: number;
  props: Prop[];
  nodes: MenuNode[];
  /** Current value: `tri` for bool/tristate, `val` for all (string form). */
  curTri: Tri;
  /** For string/int/hex the value text; for choices the selected symbol. */
  curVal: string;
  curChoice: Sym | undefined;
  /** User value (def[S_DEF_USER]). */
  userTri: Tri;
  userVal: string | undefined;
  userChoice: Sym | undefined;
  visible: Tri;
  dirDep: Expr | undefined;
  dirDepTri: Tri;
  revDep: Expr | undefined;
  revDepTri: Tri;
  implied: Expr | undefined;
  impliedTri: Tri;
  /** For choice values: their choice. For choices: their values in order. */
  choice: Sym | undefined;
  choiceValues: Sym[];
  /** Order of creation, for hash-order iteration. */
  id: number;
}

/** A menu node (`struct menu`). */
export interface MenuNode {
  sym: Sym | undefined;
  prompt: Prop | undefined;
  /** "menu", "comment", "if", "symbol", "choice", "root" */
  kind: "menu" | "comment" | "if" | "symbol" | "choice" | "root";
  dep: Expr | undefined;
  visibility: Expr | undefined;
  help: string | undefined;
  parent: MenuNode | undefined;
  list: MenuNode | undefined;
  next: MenuNode | undefined;
  pos: Pos;
  /** menuconfig entry */
  isMenuconfig: boolean;
}

/** Everything parsing produced: symbols, the menu tree, warnings. */
export interface KconfigTree {
  root: MenuNode;
  /** All named symbols including undefined ones referenced by expressions. */
  syms: Map<string, Sym>;
  /** Constant (quoted) symbols. */
  consts: Map<string, Sym>;
  choices: Sym[];
  y: Sym;
  m: Sym;
  n: Sym;
  empty: Sym;
  modules: Sym;
  /** Warnings as conf prints them (`file:line:warning: …`). */
  warnings: string[];
  /** Every Kconfig file read, in order. */
  files: string[];
  /** Environment variables referenced, with the values used. */
  env: Record<string, string>;
  /** Evaluation state: MODULES value cache and change counter. */
  modulesVal: Tri;
  /** Symbols in `for_all_symbols` order (C's hash table walk). */
  hashOrder: Sym[];
  /**
   * Whose scripts/kconfig semantics apply: Linux 6.1's, or Unikraft's
   * support/kconfig, a Linux 5.2 copy (see {@link KconfigDialect}).
   */
  dialect: KconfigDialect;
}

/**
 * `linux-6.1`: Linux 6.1's scripts/kconfig. `unikraft`: Unikraft's
 * support/kconfig (Linux 5.2 plus globbing `source`), whose symbol.c differs
 * in what users see: `imply` counts only while the implied symbol's own
 * dependencies are met (5.2's `if (sym->implied.expr && sym->dir_dep.tri != no)`;
 * 6.1 computes it regardless and ANDs the value with them, so an implied but
 * unmet symbol is written as "is not set"), `m` raised to `y` when implied
 * `y`, and a value outside its range clamped to the bound printed as
 * `%lld`/`0x%llx` instead of the bound's own text; its conf_write() prints
 * `# end of MENU` only when climbing out of a menu's entries, so an empty
 * menu has none.
 */
export type KconfigDialect = "linux-6.1" | "unikraft";
