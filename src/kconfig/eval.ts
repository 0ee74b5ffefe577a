/**
 * Value calculation, a line-by-line port of the semantics of Linux 6.1's
 * scripts/kconfig/symbol.c: sym_calc_visibility, sym_calc_value (user value
 * when visible, else the first default whose condition holds, implies capped
 * by direct dependencies, selects forcing a floor), choices
 * (sym_calc_choice/sym_choice_default), ranges (sym_validate_range) and
 * expr_calc_value's comparisons. The flags (VALID, WRITE, DEF_USER, …) are
 * C's, because conf's output depends on them.
 */
import { compareValues, strtoll } from "./compare.js";
import type { Expr, KconfigTree, Prop, Sym, SymType, Tri } from "./types.js";
import { F } from "./types.js";

const min = (a: Tri, b: Tri): Tri => (a < b ? a : b);
const max = (a: Tri, b: Tri): Tri => (a > b ? a : b);

/** An unmet-dependency warning as sym_warn_unmet_dep() prints it. */
export type WarnSink = (text: string, sym: Sym) => void;

export class Evaluator {
  modulesVal: Tri = 0;
  warn: WarnSink | undefined;

  constructor(readonly tree: KconfigTree) {}

  isChoice(s: Sym): boolean {
    return (s.flags & F.CHOICE) !== 0;
  }

  isChoiceValue(s: Sym): boolean {
    return (s.flags & F.CHOICEVAL) !== 0;
  }

  hasValue(s: Sym): boolean {
    return (s.flags & F.DEF_USER) !== 0;
  }

  /** sym_get_type(): tristate reads as bool without modules or in a y-mode choice. */
  getType(s: Sym): SymType {
    if (s.type === "tristate") {
      if (this.isChoiceValue(s) && s.visible === 2) return "bool";
      if (this.modulesVal === 0) return "bool";
    }
    return s.type;
  }

  /** expr_calc_value(). */
  calcExpr(e: Expr | undefined): Tri {
    if (!e) return 2;
    switch (e.k) {
      case "sym":
        this.calc(e.s);
        return e.s.curTri;
      case "and":
        return min(this.calcExpr(e.l), this.calcExpr(e.r));
      case "or":
        return max(this.calcExpr(e.l), this.calcExpr(e.r));
      case "not":
        return (2 - this.calcExpr(e.e)) as Tri;
      case "cmp":
        return this.calcCmp(e.op, e.l, e.r);
    }
  }

  private calcCmp(op: string, l: Sym, r: Sym): Tri {
    this.calc(l);
    this.calc(r);
    return compareValues(op, this.stringValue(l), l.type, this.stringValue(r), r.type);
  }

  /** sym_get_string_value(). */
  stringValue(s: Sym): string {
    if (s.type === "bool" || s.type === "tristate") {
      const t = s.curTri;
      if (t === 0) return "n";
      if (t === 2) return "y";
      this.calc(this.tree.modules);
      return this.tree.modules.curTri === 0 ? "n" : "m";
    }
    return s.curVal;
  }

  /** sym_calc_visibility(). */
  calcVisibility(s: Sym): void {
    let tri: Tri = 0;
    const cs = this.isChoiceValue(s) ? s.choice : undefined;
    for (const p of s.props) {
      if (p.kind !== "prompt" && p.kind !== "menu") continue;
      p.visTri = this.calcExpr(p.cond);
      if (cs && s.type === "tristate" && p.visTri === 1 && cs.curTri === 2) p.visTri = 0;
      tri = max(tri, p.visTri);
    }
    if (tri === 1 && (s.type !== "tristate" || this.modulesVal === 0)) tri = 2;
    s.visible = tri;
    if (this.isChoiceValue(s)) return;
    tri = s.dirDep ? this.calcExpr(s.dirDep) : 2;
    if (tri === 1 && this.getType(s) === "bool") tri = 2;
    s.dirDepTri = tri;
    tri = s.revDep ? this.calcExpr(s.revDep) : 0;
    if (tri === 1 && this.getType(s) === "bool") tri = 2;
    s.revDepTri = tri;
    // Linux 5.2 (Unikraft) evaluates `imply` only while the symbol's own dependencies hold
    const old52 = this.tree.dialect === "unikraft";
    tri = s.implied && !(old52 && s.dirDepTri === 0) ? this.calcExpr(s.implied) : 0;
    if (tri === 1 && this.getType(s) === "bool") tri = 2;
    s.impliedTri = tri;
  }

  /** First property of a kind whose condition is not n (sym_get_default_prop / range). */
  activeProp(s: Sym, kind: "default" | "range"): Prop | undefined {
    for (const p of s.props) {
      if (p.kind !== kind) continue;
      p.visTri = this.calcExpr(p.cond);
      if (p.visTri !== 0) return p;
    }
    return undefined;
  }

  /** sym_choice_default(). */
  choiceDefault(cs: Sym): Sym | undefined {
    for (const p of cs.props) {
      if (p.kind !== "default") continue;
      p.visTri = this.calcExpr(p.cond);
      if (p.visTri === 0) continue;
      const d = p.expr?.k === "sym" ? p.expr.s : undefined;
      if (d && d.visible !== 0) return d;
    }
    for (const v of cs.choiceValues) if (v.visible !== 0) return v;
    return undefined;
  }

  private calcChoice(cs: Sym): Sym | undefined {
    let flags = cs.flags;
    for (const v of cs.choiceValues) {
      this.calcVisibility(v);
      if (v.visible !== 0) flags &= v.flags;
    }
    cs.flags &= flags | ~F.DEF_USER;
    const u = cs.userChoice;
    if (u && u.visible !== 0) return u;
    const d = this.choiceDefault(cs);
    if (!d) cs.curTri = 0;
    return d;
  }

  private warnUnmet(s: Sym): void {
    this.warn?.(s.name, s);
  }

  /** sym_calc_value(). */
  calc(s: Sym): void {
    if (s.flags & F.VALID) return;
    if (this.isChoiceValue(s) && s.flags & F.NEED_SET_CHOICE_VALUES) {
      s.flags &= ~F.NEED_SET_CHOICE_VALUES;
      if (s.choice) this.calc(s.choice);
    }
    s.flags |= F.VALID;
    const oldTri = s.curTri;
    let newTri: Tri = 0;
    let newVal = "";
    switch (s.type) {
      case "int":
      case "hex":
      case "string":
        newVal = "";
        break;
      case "bool":
      case "tristate":
        newVal = "n";
        break;
      default:
        s.curVal = s.name;
        s.curTri = 0;
        return;
    }
    s.flags &= ~F.WRITE;
    this.calcVisibility(s);
    if (s.visible !== 0) s.flags |= F.WRITE;
    s.curTri = 0;
    s.curVal = newVal;
    const isBoolish = s.type === "bool" || s.type === "tristate";
    const t = this.getType(s);
    if (isBoolish) {
      if (this.isChoiceValue(s) && s.visible === 2) {
        newTri = s.choice?.curChoice === s ? 2 : 0;
      } else {
        let useUser = false;
        if (s.visible !== 0 && this.hasValue(s)) {
          newTri = min(s.userTri, s.visible);
          useUser = true;
        }
        if (!useUser) {
          if (s.revDepTri !== 0) s.flags |= F.WRITE;
          if (!this.isChoice(s)) {
            const p = this.activeProp(s, "default");
            if (p) {
              newTri = min(this.calcExpr(p.expr), p.visTri);
              if (newTri !== 0) s.flags |= F.WRITE;
            }
            if (s.impliedTri !== 0) {
              s.flags |= F.WRITE;
              newTri = max(newTri, s.impliedTri);
              if (this.tree.dialect !== "unikraft") newTri = min(newTri, s.dirDepTri);
            }
          }
        }
        if (s.dirDepTri < s.revDepTri) this.warnUnmet(s);
        newTri = max(newTri, s.revDepTri);
      }
      if (
        newTri === 1 &&
        (this.getType(s) === "bool" || (this.tree.dialect === "unikraft" && s.impliedTri === 2))
      )
        newTri = 2;
    } else {
      if (s.visible !== 0 && this.hasValue(s)) {
        newVal = s.userVal ?? "";
      } else {
        const p = this.activeProp(s, "default");
        if (p) {
          const ds = p.expr?.k === "sym" ? p.expr.s : undefined;
          if (ds) {
            s.flags |= F.WRITE;
            this.calc(ds);
            newVal = ds.curVal;
          }
        }
      }
    }
    void t;
    s.curTri = newTri;
    if (isBoolish) s.curVal = newTri === 2 ? "y" : newTri === 1 ? "m" : "n";
    else s.curVal = newVal;
    if (this.isChoice(s) && newTri === 2) s.curChoice = this.calcChoice(s);
    else if (this.isChoice(s)) s.curChoice = undefined;
    this.validateRange(s);
    if (s === this.tree.modules && oldTri !== s.curTri) this.modulesVal = s.curTri;
    else if (s === this.tree.modules) this.modulesVal = s.curTri;
    if (this.isChoice(s)) {
      for (const v of s.choiceValues) {
        if (s.flags & F.WRITE && v.visible !== 0) v.flags |= F.WRITE;
      }
    }
    if (s.flags & F.NO_WRITE) s.flags &= ~F.WRITE;
    if (s.flags & F.NEED_SET_CHOICE_VALUES) this.setAllChoiceValues(s);
  }

  /** set_all_choice_values(). */
  setAllChoiceValues(cs: Sym): void {
    for (const v of cs.choiceValues) {
      if (!this.hasValue(v)) v.userTri = 0;
    }
    cs.flags |= F.DEF_USER;
    cs.flags &= ~(F.VALID | F.NEED_SET_CHOICE_VALUES);
  }

  private rangeVal(s: Sym, base: 10 | 16): bigint {
    this.calc(s);
    const b = s.type === "int" ? 10 : s.type === "hex" ? 16 : base;
    return strtoll(s.curVal, b);
  }

  /** sym_validate_range(). */
  private validateRange(s: Sym): void {
    if (s.type !== "int" && s.type !== "hex") return;
    const base = s.type === "int" ? 10 : 16;
    const p = this.activeProp(s, "range");
    if (!p?.range) return;
    const val = strtoll(s.curVal, base);
    let rs = p.range[0];
    let v2 = this.rangeVal(rs, base);
    if (val >= v2) {
      rs = p.range[1];
      v2 = this.rangeVal(rs, base);
      if (val <= v2) return;
    }
    // Linux 5.2 prints the bound afresh; 6.1 copies the bound symbol's text
    s.curVal =
      this.tree.dialect === "unikraft"
        ? s.type === "int"
          ? v2.toString(10)
          : `0x${BigInt.asUintN(64, v2).toString(16)}`
        : rs.curVal;
  }

  /** sym_string_valid(). */
  stringValid(s: Sym, str: string): boolean {
    switch (s.type) {
      case "string":
        return true;
      case "int":
        return /^-?(0|[1-9][0-9]*)$/.test(str);
      case "hex":
        return /^(0[xX])?[0-9a-fA-F]+$/.test(str);
      case "bool":
      case "tristate":
        return /^[yYmMnN]/.test(str);
      default:
        return false;
    }
  }

  /** sym_string_within_range(). */
  stringWithinRange(s: Sym, str: string): boolean {
    switch (s.type) {
      case "string":
        return true;
      case "int":
      case "hex": {
        if (!this.stringValid(s, str)) return false;
        const p = this.activeProp(s, "range");
        if (!p?.range) return true;
        const base = s.type === "int" ? 10 : 16;
        const v = strtoll(str, base);
        return v >= this.rangeVal(p.range[0], base) && v <= this.rangeVal(p.range[1], base);
      }
      case "bool":
      case "tristate": {
        const c = str[0]?.toLowerCase();
        if (c === "y") return this.triWithinRange(s, 2);
        if (c === "m") return this.triWithinRange(s, 1);
        if (c === "n") return this.triWithinRange(s, 0);
        return false;
      }
      default:
        return false;
    }
  }

  /** sym_tristate_within_range(). */
  triWithinRange(s: Sym, v: Tri): boolean {
    const t = this.getType(s);
    if (s.visible === 0) return false;
    if (t !== "bool" && t !== "tristate") return false;
    if (t === "bool" && v === 1) return false;
    if (s.visible <= s.revDepTri) return false;
    if (this.isChoiceValue(s) && s.visible === 2) return v === 2;
    return v >= s.revDepTri && v <= s.visible;
  }

  /** sym_get_string_default(): what the value would be without a user value. */
  stringDefault(s: Sym): string {
    this.calcVisibility(s);
    this.calc(this.tree.modules);
    let val: Tri = 0;
    let str = "";
    const p = this.activeProp(s, "default");
    if (p) {
      if (s.type === "bool" || s.type === "tristate") {
        val = min(this.calcExpr(p.expr), p.visTri);
      } else {
        const ds = p.expr?.k === "sym" ? p.expr.s : undefined;
        if (ds) {
          this.calc(ds);
          str = ds.curVal;
        }
      }
    }
    val = max(val, s.revDepTri);
    if (val === 1 && !this.isChoiceValue(s) && this.tree.modules.curTri === 0) val = 2;
    if (s.type === "bool" && val === 1) val = 2;
    if (val < s.impliedTri) val = s.impliedTri;
    if (s.type === "bool" || s.type === "tristate") return val === 0 ? "n" : val === 1 ? "m" : "y";
    return str;
  }

  /** sym_clear_all_valid(): invalidates every value, then recomputes MODULES first, as C does. */
  clearAllValid(): void {
    for (const s of this.tree.hashOrder) s.flags &= ~F.VALID;
    this.calc(this.tree.modules);
  }
}
