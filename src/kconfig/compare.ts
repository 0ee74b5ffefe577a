/**
 * How Linux 6.1's scripts/kconfig/expr.c compares two values in an
 * expression (`A = B`, `A < B`, …): expr_calc_value() reads each side by its
 * symbol's type (expr_parse_string(): bools and tristates as n/m/y, ints in
 * base 10, hex in base 16 and unsigned, untyped values in base 0), compares
 * numbers when both sides read as numbers and strings otherwise. Pure.
 */
import type { SymType, Tri } from "./types.js";

/** The result of a comparison `s1 OP s2` between values of the given types, as a tristate. */
export function compareValues(op: string, s1: string, t1: SymType, s2: string, t2: SymType): Tri {
  let res: number;
  let k1: ParsedKind = "string";
  let k2: ParsedKind = "string";
  let v1 = 0n;
  let v2 = 0n;
  if (t1 !== "string" || t2 !== "string") {
    [k1, v1] = parseValue(s1, t1);
    [k2, v2] = parseValue(s2, t2);
  }
  if (k1 === "string" || k2 === "string") res = s1 < s2 ? -1 : s1 > s2 ? 1 : 0;
  else if (k1 === "unsigned" || k2 === "unsigned") {
    const a = BigInt.asUintN(64, v1);
    const b = BigInt.asUintN(64, v2);
    res = a > b ? 1 : a < b ? -1 : 0;
  } else res = v1 > v2 ? 1 : v1 < v2 ? -1 : 0;
  switch (op) {
    case "=":
      return res ? 0 : 2;
    case "!=":
      return res ? 2 : 0;
    case ">=":
      return res >= 0 ? 2 : 0;
    case ">":
      return res > 0 ? 2 : 0;
    case "<=":
      return res <= 0 ? 2 : 0;
    default:
      return res < 0 ? 2 : 0;
  }
}

type ParsedKind = "signed" | "unsigned" | "string";

/** strtoll(str, NULL, base) with C's saturation, as a bigint. */
export function strtoll(str: string, base: number): bigint {
  const m = (base === 16 ? /^\s*([+-]?)(?:0[xX])?([0-9a-fA-F]*)/ : /^\s*([+-]?)([0-9]*)/).exec(str);
  if (!m?.[2]) return 0n;
  let v = BigInt(base === 16 ? `0x${m[2]}` : m[2]);
  if (m[1] === "-") v = -v;
  const MAX = (1n << 63n) - 1n;
  if (v > MAX) return MAX;
  if (v < -MAX - 1n) return -MAX - 1n;
  return v;
}

/** expr_parse_string(): how a comparison reads a value of a type. */
function parseValue(str: string, type: SymType): [ParsedKind, bigint] {
  if (type === "bool" || type === "tristate") {
    return ["signed", str === "n" ? 0n : str === "m" ? 1n : str === "y" ? 2n : -1n];
  }
  let m: RegExpExecArray | null;
  if (type === "int") {
    m = /^\s*[+-]?[0-9]+$/.exec(str);
    return m && /[0-9a-fA-F]$/.test(str) ? ["signed", strtoll(str, 10)] : ["string", 0n];
  }
  if (type === "hex") {
    m = /^\s*[+-]?(0[xX])?[0-9a-fA-F]+$/.exec(str);
    if (!m) return ["string", 0n];
    return ["unsigned", BigInt.asUintN(64, strtoll(str, 16))];
  }
  // base 0: 0x… hex, 0… octal, else decimal
  m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(str);
  if (!m) return ["string", 0n];
  const body = m[2] as string;
  let v = /^0[xX]/.test(body)
    ? BigInt(body)
    : body.length > 1 && body[0] === "0"
      ? BigInt(`0o${body.slice(1)}`)
      : BigInt(body);
  if (m[1] === "-") v = -v;
  return ["signed", v];
}
