/**
 * Expression helpers: construction as expr.c does it (a missing operand of
 * `&&`/`||` is dropped), the `m` → `m && MODULES` rewrite of menu.c, and
 * printing in conf's syntax for messages and `why`.
 */
import type { Expr, Sym } from "./types.js";

export function symExpr(s: Sym): Expr {
  return { k: "sym", s };
}

/** expr_alloc_and(): `undefined` stands for "no condition" (always y). */
export function and(l: Expr | undefined, r: Expr | undefined): Expr | undefined {
  if (!l) return r;
  if (!r) return l;
  return { k: "and", l, r };
}

/** expr_alloc_or(). */
export function or(l: Expr | undefined, r: Expr | undefined): Expr | undefined {
  if (!l) return r;
  if (!r) return l;
  return { k: "or", l, r };
}

/** menu.c rewrite_m(): in conditions, `m` means `m && MODULES`. */
export function rewriteM(e: Expr | undefined, m: Sym, modules: Sym): Expr | undefined {
  if (!e) return e;
  switch (e.k) {
    case "not":
      return { k: "not", e: rewriteM(e.e, m, modules) as Expr };
    case "and":
    case "or":
      return { k: e.k, l: rewriteM(e.l, m, modules) as Expr, r: rewriteM(e.r, m, modules) as Expr };
    case "sym":
      return e.s === m ? { k: "and", l: e, r: symExpr(modules) } : e;
    default:
      return e;
  }
}

/** expr_contains_symbol(). */
export function containsSym(e: Expr | undefined, s: Sym): boolean {
  if (!e) return false;
  switch (e.k) {
    case "and":
    case "or":
      return containsSym(e.l, s) || containsSym(e.r, s);
    case "not":
      return containsSym(e.e, s);
    case "sym":
      return e.s === s;
    case "cmp":
      return e.l === s || e.r === s;
  }
}

/** expr_depends_symbol(): `dep` requires `s` (used for automatic submenus). */
export function dependsOnSym(e: Expr | undefined, s: Sym, y: Sym, m: Sym, n: Sym): boolean {
  if (!e) return false;
  switch (e.k) {
    case "and":
      return dependsOnSym(e.l, s, y, m, n) || dependsOnSym(e.r, s, y, m, n);
    case "sym":
      return e.s === s;
    case "cmp":
      if (e.l !== s) return false;
      if (e.op === "=") return e.r === y || e.r === m;
      if (e.op === "!=") return e.r === n;
      return false;
    default:
      return false;
  }
}

function symText(s: Sym): string {
  // y, m, n (id -1) print bare; other constants were quoted in the source
  if (s.flags & 0x1 && s.id >= 0) return `"${s.name}"`;
  return s.name || "<choice>";
}

const PREC = { or: 1, and: 2, not: 3, cmp: 4, sym: 5 } as const;

/**
 * Prints an expression as Kconfig source (expr_print's parenthesization).
 * With `symValue`, prints as conf's warnings do: bare names, each typed
 * symbol followed by ` [=value]` (expr_print_gstr_helper).
 */
export function exprToString(
  e: Expr | undefined,
  outer = 0,
  symValue?: (s: Sym) => string | undefined,
): string {
  if (!e) return "y";
  const st = (x: Sym) => {
    if (!symValue) return symText(x);
    const v = x.type === "unknown" ? undefined : symValue(x);
    return v === undefined ? x.name || "<choice>" : `${x.name || "<choice>"} [=${v}]`;
  };
  let s: string;
  switch (e.k) {
    case "sym":
      return st(e.s);
    case "not":
      s = `!${exprToString(e.e, PREC.not, symValue)}`;
      break;
    case "and":
      s = `${exprToString(e.l, PREC.and, symValue)} && ${exprToString(e.r, PREC.and, symValue)}`;
      break;
    case "or":
      s = `${exprToString(e.l, PREC.or, symValue)} || ${exprToString(e.r, PREC.or, symValue)}`;
      break;
    case "cmp":
      s = `${st(e.l)}${e.op}${st(e.r)}`;
      break;
  }
  return PREC[e.k] < outer ? `(${s})` : s;
}

/** Every symbol an expression mentions (each once, in order). */
export function exprSyms(e: Expr | undefined, out: Sym[] = []): Sym[] {
  if (!e) return out;
  const add = (s: Sym) => {
    if (!out.includes(s)) out.push(s);
  };
  switch (e.k) {
    case "sym":
      add(e.s);
      break;
    case "not":
      exprSyms(e.e, out);
      break;
    case "and":
    case "or":
      exprSyms(e.l, out);
      exprSyms(e.r, out);
      break;
    case "cmp":
      add(e.l);
      add(e.r);
      break;
  }
  return out;
}
