/**
 * The menu's small adapter over the Kconfig engine: setting a value as
 * menuconfig does (symbol.c sym_set_tristate_value / sym_set_string_value,
 * gated by sym_tristate_within_range / sym_string_within_range), the "why"
 * facts of a symbol, and why a menu entry is hidden. Kept in one file so the
 * menu can switch to the engine's own `why`/`setValues` when they land.
 */
import { exprSyms, exprToString } from "../expr.js";
import type { Config } from "../ops.js";
import type { Expr, MenuNode, Sym, Tri } from "../types.js";
import { F } from "../types.js";

const TRI = ["n", "m", "y"] as const;

/** Recomputes every value after a change (sym_clear_all_valid()). */
export function refresh(c: Config): void {
  c.ev.clearAllValid();
}

/** sym_is_changeable(): a visible prompt above what selects force. */
export function isChangeable(c: Config, s: Sym): boolean {
  c.ev.calc(s);
  return s.visible > s.revDepTri;
}

/** The tristate value of a symbol (sym_get_tristate_value()). */
export function triOf(c: Config, s: Sym): Tri {
  c.ev.calc(s);
  return s.curTri;
}

/** The value as `.config` spells it. */
export function symValue(c: Config, s: Sym): string {
  c.ev.calc(s);
  return c.ev.stringValue(s);
}

/**
 * sym_set_tristate_value(): false when the value is outside what the symbol
 * allows now (mconf then leaves it unchanged, as here).
 */
export function setTri(c: Config, s: Sym, tri: Tri): boolean {
  const ev = c.ev;
  ev.calc(s);
  if (!ev.triWithinRange(s, tri)) return false;
  if (!ev.hasValue(s)) s.flags |= F.DEF_USER;
  // a choice value set to y becomes the choice's user choice; its siblings get user values too
  if (s.flags & F.CHOICEVAL && tri === 2 && s.choice) {
    const cs = s.choice;
    cs.userChoice = s;
    cs.flags |= F.DEF_USER;
    for (const v of cs.choiceValues) if (v.visible !== 0) v.flags |= F.DEF_USER;
  }
  s.userTri = tri;
  refresh(c);
  return true;
}

/** sym_set_string_value(): hex values get their 0x; false when out of range or invalid. */
export function setString(c: Config, s: Sym, text: string): boolean {
  const ev = c.ev;
  ev.calc(s);
  let v = text.trim();
  if (s.type === "hex" && v !== "" && !/^0[xX]/.test(v)) v = `0x${v}`;
  if (!ev.stringWithinRange(s, v)) return false;
  s.flags |= F.DEF_USER;
  s.userVal = v;
  refresh(c);
  return true;
}

/** One term of a condition with its value; `symbol` is where "jump" goes. */
export interface Term {
  text: string;
  value: "n" | "m" | "y";
  symbol: string | undefined;
  blocking: boolean;
}

/** A condition split at its top-level `&&` (or `||` for selectors). */
export interface Condition {
  text: string;
  value: "n" | "m" | "y";
  terms: Term[];
}

/** The facts the why panel shows. */
export interface WhyFacts {
  symbol: string;
  type: string;
  value: string;
  changeable: boolean;
  userValue: string | undefined;
  definitions: { file: string; line: number; prompt: string | undefined }[];
  dependsOn: Condition | undefined;
  /** The prompt's own condition (`prompt "x" if COND`, menu and `if` blocks), when it hides the entry. */
  promptIf: Condition | undefined;
  selectedBy: { text: string; value: "n" | "m" | "y"; symbol: string | undefined }[];
  impliedBy: { text: string; value: "n" | "m" | "y"; symbol: string | undefined }[];
  /** The default that gave the value when no user value applied. */
  appliedDefault: { value: string; cond: string | undefined; file: string; line: number } | undefined;
  /** The range in force for int/hex (the first whose condition holds), as `min..max`. */
  range: string | undefined;
  hidden: string | undefined;
}

function firstNamed(e: Expr): string | undefined {
  return exprSyms(e).find((s) => !(s.flags & F.CONST) && s.name !== "")?.name;
}

function split(e: Expr | undefined, op: "and" | "or", out: Expr[] = []): Expr[] {
  if (!e) return out;
  if (e.k === op) {
    split(e.l, op, out);
    split(e.r, op, out);
  } else out.push(e);
  return out;
}

function condition(c: Config, e: Expr | undefined): Condition | undefined {
  if (!e) return undefined;
  const terms = split(e, "and").map((t) => {
    const v = c.ev.calcExpr(t);
    return { text: exprToString(t), value: TRI[v], symbol: firstNamed(t), blocking: v === 0 };
  });
  return { text: exprToString(e), value: TRI[c.ev.calcExpr(e)], terms };
}

/** The symbol's prompt property, if it has one. */
function promptOf(s: Sym) {
  return s.props.find((p) => p.kind === "prompt" || p.kind === "menu");
}

/**
 * Why an entry is hidden, in one line (undefined when visible): the blocking
 * dependency terms, a prompt condition, or no prompt at all.
 */
export function hiddenReason(c: Config, node: MenuNode): string | undefined {
  if (!node.prompt) return "it has no prompt (set only by defaults and select)";
  if (node.visibility && c.ev.calcExpr(node.visibility) === 0)
    return `menu visible if ${exprToString(node.visibility)} [=n]`;
  const s = node.sym;
  if (s) c.ev.calc(s);
  const vis = c.ev.calcExpr(node.prompt.cond);
  if (vis !== 0) return undefined;
  const dep = s ? condition(c, s.dirDep) : undefined;
  const blocked = dep?.terms.filter((t) => t.blocking) ?? [];
  if (blocked.length) return `depends on ${blocked.map((t) => `${t.text} [=n]`).join(" && ")}`;
  const cond = condition(c, node.prompt.cond);
  const pb = cond?.terms.filter((t) => t.blocking) ?? [];
  if (pb.length) return `prompt only if ${pb.map((t) => `${t.text} [=n]`).join(" && ")}`;
  return "its prompt's condition is n";
}

/** The why facts of a symbol (its first menu node decides `hidden`). */
export function whyFacts(c: Config, s: Sym): WhyFacts {
  const ev = c.ev;
  ev.calc(s);
  const prompt = promptOf(s);
  const node = s.nodes.find((n) => n.prompt) ?? s.nodes[0];
  const promptCond = prompt ? condition(c, prompt.cond) : undefined;
  const dependsOn = condition(c, s.dirDep);
  let appliedDefault: WhyFacts["appliedDefault"];
  const userApplies = s.visible !== 0 && ev.hasValue(s);
  if (!userApplies && !(s.flags & F.CHOICE)) {
    const p = ev.activeProp(s, "default");
    if (p?.expr)
      appliedDefault = {
        value: exprToString(p.expr),
        cond: p.cond ? exprToString(p.cond) : undefined,
        file: p.pos.file,
        line: p.pos.line,
      };
  }
  let range: string | undefined;
  if (s.type === "int" || s.type === "hex") {
    const r = ev.activeProp(s, "range")?.range;
    if (r) {
      ev.calc(r[0]);
      ev.calc(r[1]);
      range = `${ev.stringValue(r[0])}..${ev.stringValue(r[1])}`;
    }
  }
  const rev = (e: Expr | undefined) =>
    split(e, "or").map((t) => ({ text: exprToString(t), value: TRI[ev.calcExpr(t)], symbol: firstNamed(t) }));
  return {
    symbol: s.name,
    type: s.type,
    value: ev.stringValue(s),
    changeable: s.visible > s.revDepTri,
    userValue: ev.hasValue(s)
      ? s.type === "bool" || s.type === "tristate"
        ? TRI[s.userTri]
        : s.userVal
      : undefined,
    definitions: s.nodes.map((n) => ({ file: n.pos.file, line: n.pos.line, prompt: n.prompt?.text })),
    dependsOn,
    promptIf: promptCond && promptCond.value === "n" && dependsOn?.value !== "n" ? promptCond : undefined,
    selectedBy: rev(s.revDep),
    impliedBy: rev(s.implied),
    appliedDefault,
    range,
    hidden: node ? hiddenReason(c, node) : "it is not defined in any Kconfig file",
  };
}
