/**
 * Reading the tokens of one Kconfig statement (a logical line): words,
 * strings, the end of the statement, `if` conditions, and expressions with
 * parser.y's precedence (`||` lowest, then `&&`, then `!`, comparisons between
 * two symbols). Errors carry the file, line and the offending token's column.
 */
import type { KilnError } from "../core/errors.js";
import { symExpr } from "./expr.js";
import type { FileLexer, Line } from "./lexer.js";
import type { Expr, Sym } from "./types.js";

/** Where symbols named in an expression come from (the tree being built). */
export interface SymbolSource {
  lookup(name: string): Sym;
  lookupConst(name: string): Sym;
}

/** One statement's tokens, read from left to right by index. */
export class Statement {
  constructor(
    readonly line: Line,
    private readonly lex: FileLexer,
    private readonly syms: SymbolSource,
  ) {}

  /** The keyword or word that opens the statement. */
  get head(): string {
    return this.line.tokens[0]?.t ?? "";
  }

  /** A syntax error pointing at token `i` (or just past the line's end). */
  err(i: number, message: string): KilnError {
    const tok = this.line.tokens[i];
    return this.lex.syntaxError(message, this.line, tok ? tok.col : this.line.text.length + 1);
  }

  word(i: number): string {
    const t = this.line.tokens[i];
    if (t?.t !== "word")
      throw this.err(i, t ? `expected a symbol name, found '${t.v}'` : "expected a symbol name");
    return t.v;
  }

  str(i: number): string {
    const t = this.line.tokens[i];
    if (t?.t !== "str")
      throw this.err(i, t ? `expected a quoted string, found '${t.v}'` : "expected a quoted string");
    return t.v;
  }

  end(i: number): void {
    const t = this.line.tokens[i];
    if (t) throw this.err(i, `unexpected '${t.v}' at end of statement`);
  }

  /** An optional `if EXPR` at `i`, then the end of the statement. */
  ifThenEnd(i: number): Expr | undefined {
    const { cond, next } = this.ifExpr(i);
    this.end(next);
    return cond;
  }

  ifExpr(i: number): { cond: Expr | undefined; next: number } {
    if (this.line.tokens[i]?.t !== "if") return { cond: undefined, next: i };
    const { expr, next } = this.expr(i + 1);
    return { cond: expr, next };
  }

  symbolAt(i: number): Sym {
    const t = this.line.tokens[i];
    if (t?.t === "word") return this.syms.lookup(t.v);
    if (t?.t === "str") return this.syms.lookupConst(t.v);
    throw this.err(i, t ? `expected a symbol or a value, found '${t.v}'` : "expected a symbol or a value");
  }

  /** expr: || lowest, then &&, then !, comparisons between two symbols. */
  expr(i: number): { expr: Expr; next: number } {
    const toks = this.line.tokens;
    let p = i;
    const primary = (): Expr => {
      const t = toks[p];
      if (!t) throw this.err(p, "expected an expression");
      if (t.t === "!") {
        p++;
        return { k: "not", e: primary() };
      }
      if (t.t === "(") {
        p++;
        const e = orExpr();
        if (toks[p]?.t !== ")") throw this.err(p, "expected ')'");
        p++;
        return e;
      }
      const s = this.symbolAt(p);
      p++;
      const op = toks[p]?.t;
      if (op === "=" || op === "!=" || op === "<" || op === "<=" || op === ">" || op === ">=") {
        p++;
        const r = this.symbolAt(p);
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
