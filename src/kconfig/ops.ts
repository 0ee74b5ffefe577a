/**
 * The operations of Linux 6.1's scripts/kconfig/conf: olddefconfig,
 * defconfig, alldefconfig, allnoconfig, allyesconfig, allmodconfig and
 * savedefconfig, each a pure function from a parsed tree (and `.config`
 * text) to the text conf would write. A {@link Config} wraps one evaluation.
 */
import { readConfig, readConfigSimple, writeAutoconf, writeConfig, writeDefconfig } from "./confdata.js";
import { Evaluator } from "./eval.js";
import { exprToString } from "./expr.js";
import type { Expr, KconfigTree, Sym, Tri } from "./types.js";
import { F } from "./types.js";

/** conf's unmet-dependency warning for one symbol. */
export interface UnmetDependency {
  symbol: string;
  dependsOn: string;
  dependsTri: "n" | "m";
  selectedBy: string[];
  /** The warning exactly as conf prints it (sym_warn_unmet_dep). */
  text: string;
}

/** Flags that describe the tree itself, kept when a new configuration starts. */
const STATIC_FLAGS = F.CONST | F.CHOICE | F.CHOICEVAL | F.OPTIONAL | F.NO_WRITE | F.WARNED;

/**
 * A configuration: the tree plus user values and computed values. Values
 * live on the tree's symbols (as in conf), so a new Config resets them and
 * only the most recently created Config of a tree is valid.
 */
export class Config {
  readonly ev: Evaluator;
  readonly readWarnings: string[] = [];
  readonly unmet = new Map<string, UnmetDependency>();

  constructor(readonly tree: KconfigTree) {
    for (const s of tree.hashOrder) {
      s.flags &= STATIC_FLAGS;
      s.userTri = 0;
      s.userVal = undefined;
      s.userChoice = undefined;
      s.curTri = 0;
      s.curVal = "";
      s.curChoice = undefined;
      s.visible = 0;
      s.dirDepTri = 0;
      s.revDepTri = 0;
      s.impliedTri = 0;
    }
    this.ev = new Evaluator(tree);
    this.ev.warn = (_t, s) => {
      if (this.unmet.has(s.name)) return;
      this.unmet.set(s.name, {
        symbol: s.name,
        dependsOn: exprToString(s.dirDep),
        dependsTri: s.dirDepTri === 1 ? "m" : "n",
        selectedBy: selectors(s),
        text: this.unmetText(s),
      });
    };
  }

  /** sym_warn_unmet_dep()'s text: dependency and the selectors at y and at m, with values. */
  private unmetText(s: Sym): string {
    const val = (x: Sym) => {
      this.ev.calc(x);
      return this.ev.stringValue(x);
    };
    let out = `\nWARNING: unmet direct dependencies detected for ${s.name}\n`;
    out += `  Depends on [${s.dirDepTri === 1 ? "m" : "n"}]: ${exprToString(s.dirDep, 0, val)}\n`;
    const terms: Expr[] = [];
    const split = (e: Expr | undefined) => {
      if (!e) return;
      if (e.k === "or") {
        split(e.l);
        split(e.r);
      } else terms.push(e);
    };
    split(s.revDep);
    for (const [tri, label] of [
      [2, "y"],
      [1, "m"],
    ] as const) {
      const hits = terms.filter((t) => this.ev.calcExpr(t) === tri);
      if (hits.length === 0) continue;
      out += `  Selected by [${label}]:\n`;
      for (const t of hits) out += `  - ${exprToString(t, 0, val)}\n`;
    }
    return out;
  }

  /** conf_read() of `.config` text (olddefconfig, savedefconfig, defconfig). */
  load(text: string, file = ".config"): this {
    // conf_read() computes MODULES first; readConfig does that after reading
    this.readWarnings.push(...readConfig(this.ev, text, file).map((w) => w.message));
    return this;
  }

  /** conf_read_simple() only (KCONFIG_ALLCONFIG seeds). */
  loadSimple(text: string, file = ".config"): this {
    this.readWarnings.push(...readConfigSimple(this.ev, text, file).map((w) => w.message));
    return this;
  }

  /** conf_write(): the `.config` text. */
  dotconfig(): string {
    return writeConfig(this.ev);
  }

  /** conf_write_defconfig(): savedefconfig's minimal config. */
  savedefconfig(): string {
    return writeDefconfig(this.ev);
  }

  /** include/generated/autoconf.h. */
  autoconfH(): string {
    return writeAutoconf(this.ev);
  }

  /** Value of a symbol as `.config` spells it (`y`, `m`, `n`, a number, a string). */
  value(name: string): string | undefined {
    const s = this.tree.syms.get(name);
    if (!s || s.type === "unknown") return undefined;
    this.ev.calc(s);
    return this.ev.stringValue(s);
  }

  /** conf_set_all_new_symbols() for the non-random modes. */
  setAllNew(mode: "yes" | "mod" | "no" | "default"): void {
    const ev = this.ev;
    for (const s of this.tree.hashOrder) {
      if (ev.hasValue(s) || s.flags & F.VALID) continue;
      const t = ev.getType(s);
      if (t !== "bool" && t !== "tristate") continue;
      if (mode === "default") continue;
      s.userTri = (mode === "yes" ? 2 : mode === "mod" ? 1 : 0) as Tri;
      s.flags |= F.DEF_USER;
    }
    ev.clearAllValid();
    for (const s of this.tree.hashOrder) {
      if ((s.flags & F.CHOICE && !ev.hasValue(s)) || s.flags & F.CHOICEVAL)
        s.flags |= F.NEED_SET_CHOICE_VALUES;
    }
    for (const cs of this.tree.hashOrder) {
      if (ev.hasValue(cs) || !(cs.flags & F.CHOICE)) continue;
      ev.calc(cs);
      ev.setAllChoiceValues(cs);
    }
  }
}

/** The selectors of a symbol as `A [=y] && B [=n]` lines, for messages. */
function selectors(s: Sym): string[] {
  const out: string[] = [];
  const walk = (e: typeof s.revDep) => {
    if (!e) return;
    if (e.k === "or") {
      walk(e.l);
      walk(e.r);
    } else out.push(exprToString(e));
  };
  walk(s.revDep);
  return out;
}

/** Names of the operations that start from a `.config`. */
export type Operation =
  | "olddefconfig"
  | "defconfig"
  | "alldefconfig"
  | "allnoconfig"
  | "allyesconfig"
  | "allmodconfig"
  | "savedefconfig";

/** `conf --olddefconfig`: reads `.config` text, returns the new `.config`. */
export function olddefconfig(tree: KconfigTree, dotconfig: string): Config {
  return new Config(tree).load(dotconfig);
}

/** `conf --defconfig=FILE`: reads the defconfig, fills every new symbol with its default. */
export function defconfig(tree: KconfigTree, defconfigText: string, file = "defconfig"): Config {
  const c = new Config(tree).load(defconfigText, file);
  c.setAllNew("default");
  return c;
}

/** `conf --allnoconfig` / `--allyesconfig` / `--allmodconfig` / `--alldefconfig`, with an optional KCONFIG_ALLCONFIG seed. */
export function allconfig(tree: KconfigTree, mode: "no" | "yes" | "mod" | "default", seed?: string): Config {
  const c = new Config(tree);
  if (seed !== undefined) c.loadSimple(seed, "KCONFIG_ALLCONFIG");
  c.setAllNew(mode);
  return c;
}
