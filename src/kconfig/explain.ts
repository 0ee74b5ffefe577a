/**
 * `why`: the structured facts behind a symbol's value — where it is defined,
 * its prompt and menu path, its dependencies with each term's value and the
 * terms that block it, who selects or implies it, which default applied —
 * computed by the same evaluator that writes the `.config`.
 */
import { KilnError } from "../core/errors.js";
import { exprSyms, exprToString } from "./expr.js";
import type { Config } from "./ops.js";
import type { Expr, MenuNode, Sym, Tri } from "./types.js";
import { F } from "./types.js";

const TRI = ["n", "m", "y"] as const;

/** One term of an expression with its current value. */
export interface TermValue {
  symbol: string;
  value: string;
}

/** A condition: its text, value, and the symbols in it with their values. */
export interface ConditionFacts {
  expr: string;
  value: "n" | "m" | "y";
  terms: TermValue[];
  /** Sub-expressions that keep the condition from being y (empty when it is y). */
  blocking: string[];
}

/** Everything `kiln config why SYMBOL` reports. */
export interface WhyFacts {
  symbol: string;
  type: string;
  value: string | undefined;
  /** Whether a user can change it (a visible prompt above what selects force). */
  changeable: boolean;
  /** The value read from the input `.config`, if any. */
  userValue: string | undefined;
  definitions: { file: string; line: number; prompt: string | undefined; menuPath: string[] }[];
  visibility: "n" | "m" | "y";
  dependsOn: ConditionFacts | undefined;
  selectedBy: { symbol: string; value: string; condition: ConditionFacts; active: boolean }[];
  impliedBy: { symbol: string; value: string; condition: ConditionFacts; active: boolean }[];
  defaults: { value: string; condition: ConditionFacts; file: string; line: number }[];
  /** Index into `defaults` of the default that applied (first with a condition above n). */
  appliedDefault: number | undefined;
  range: { min: string; max: string } | undefined;
  choice: { selected: string | undefined; values: string[] } | undefined;
  /** For a symbol that cannot be set: what would have to change first. */
  toEnable: string[];
}

function valueText(c: Config, s: Sym): string {
  c.ev.calc(s);
  if (s.type === "unknown") return s.flags & F.CONST ? s.name : s.name;
  return c.ev.stringValue(s);
}

/** Terms of `e` that keep it below `want` (the blocking part of a dependency). */
function blockers(c: Config, e: Expr | undefined, want: Tri): string[] {
  if (!e) return [];
  const v = c.ev.calcExpr(e);
  if (v >= want) return [];
  switch (e.k) {
    case "and":
      return [...blockers(c, e.l, want), ...blockers(c, e.r, want)];
    case "sym":
      // a name no Kconfig file defines evaluates to n (conf prints it as [=n])
      if (e.s.type === "unknown" && !(e.s.flags & F.CONST) && e.s.nodes.length === 0)
        return [`${e.s.name} is not defined (n)`];
      return [`${e.s.name} is ${valueText(c, e.s)}`];
    default:
      return [`${exprToString(e)} is ${TRI[v]}`];
  }
}

function condition(c: Config, e: Expr | undefined): ConditionFacts {
  const value = TRI[c.ev.calcExpr(e)];
  return {
    expr: exprToString(e),
    value,
    terms: exprSyms(e)
      .filter((s) => !(s.flags & F.CONST) && !["y", "m", "n"].includes(s.name))
      .map((s) => ({ symbol: s.name, value: valueText(c, s) })),
    blocking: blockers(c, e, 2),
  };
}

function menuPath(node: MenuNode): string[] {
  const path: string[] = [];
  for (let p = node.parent; p && p.kind !== "root"; p = p.parent) {
    if (p.prompt?.text && (p.kind === "menu" || p.kind === "choice" || p.sym)) path.unshift(p.prompt.text);
  }
  return path;
}

/** Splits a reverse dependency `A && cond || B && cond2` into its selectors. */
function reverseTerms(e: Expr | undefined): { sym: Sym; cond: Expr | undefined }[] {
  if (!e) return [];
  if (e.k === "or") return [...reverseTerms(e.l), ...reverseTerms(e.r)];
  if (e.k === "and" && e.l.k === "sym") return [{ sym: e.l.s, cond: e.r }];
  if (e.k === "sym") return [{ sym: e.s, cond: undefined }];
  return [];
}

/** The facts about one symbol in a configuration. */
export function why(c: Config, name: string): WhyFacts {
  const bare = name.replace(/^CONFIG_/, "");
  const s = c.tree.syms.get(bare);
  if (!s || s.nodes.length === 0) {
    throw new KilnError("KCONFIG_UNKNOWN_SYMBOL", `symbol ${bare} is not defined in this Kconfig tree`, {
      hint: s ? "it is referenced but never defined by a config entry" : undefined,
    });
  }
  const ev = c.ev;
  ev.calc(s);
  const value = valueText(c, s);
  const defaults: WhyFacts["defaults"] = [];
  let appliedDefault: number | undefined;
  let range: WhyFacts["range"];
  for (const p of s.props) {
    if (p.kind === "default") {
      const cond = condition(c, p.cond);
      if (appliedDefault === undefined && cond.value !== "n") appliedDefault = defaults.length;
      defaults.push({ value: exprToString(p.expr), condition: cond, file: p.pos.file, line: p.pos.line });
    } else if (p.kind === "range" && p.range && range === undefined && ev.calcExpr(p.cond) !== 0) {
      range = { min: valueText(c, p.range[0]), max: valueText(c, p.range[1]) };
    }
  }
  const rev = (e: Expr | undefined) =>
    reverseTerms(e).map((t) => {
      const cond = condition(c, t.cond);
      const v = valueText(c, t.sym);
      return { symbol: t.sym.name, value: v, condition: cond, active: v !== "n" && cond.value !== "n" };
    });
  const deps = s.dirDep ? condition(c, s.dirDep) : undefined;
  const changeable = s.visible > s.revDepTri;
  const toEnable: string[] = [];
  if (!changeable) {
    const prompts = s.props.filter((p) => p.kind === "prompt" || p.kind === "menu");
    if (prompts.length === 0)
      toEnable.push(`${bare} has no prompt: only its defaults, selects and implies set it`);
    else if (s.visible === 0) for (const p of prompts) toEnable.push(...blockers(c, p.cond, 1));
    if (s.revDepTri !== 0 && s.visible !== 0)
      toEnable.push(`selected to ${TRI[s.revDepTri]} by the selectors above`);
  }
  const cs = s.flags & F.CHOICEVAL ? s.choice : undefined;
  return {
    symbol: bare,
    type: s.type === "bool" ? "bool" : s.type,
    value,
    changeable,
    userValue: ev.hasValue(s)
      ? s.type === "bool" || s.type === "tristate"
        ? TRI[s.userTri]
        : s.userVal
      : undefined,
    definitions: s.nodes.map((n) => ({
      file: n.pos.file,
      line: n.pos.line,
      prompt: n.prompt?.text,
      menuPath: menuPath(n),
    })),
    visibility: TRI[s.visible],
    dependsOn: deps,
    selectedBy: rev(s.revDep),
    impliedBy: rev(s.implied),
    defaults,
    appliedDefault: ev.hasValue(s) && s.visible !== 0 ? undefined : appliedDefault,
    range,
    choice: cs ? { selected: cs.curChoice?.name, values: cs.choiceValues.map((v) => v.name) } : undefined,
    toEnable: [...new Set(toEnable)],
  };
}

/** `why` facts as the lines the CLI prints. */
export function formatWhy(f: WhyFacts): string[] {
  const out = [
    `CONFIG_${f.symbol}=${f.value ?? ""} (${f.type}${f.changeable ? "" : ", cannot be changed now"})`,
  ];
  for (const d of f.definitions) {
    out.push(`  defined at ${d.file}:${d.line}${d.prompt ? ` "${d.prompt}"` : " (no prompt)"}`);
    if (d.menuPath.length) out.push(`    menu: ${d.menuPath.join(" → ")}`);
  }
  if (f.userValue !== undefined) out.push(`  value in the input .config: ${f.userValue}`);
  if (f.dependsOn) {
    out.push(`  depends on: ${f.dependsOn.expr} [=${f.dependsOn.value}]`);
    for (const t of f.dependsOn.terms) out.push(`    ${t.symbol} = ${t.value}`);
    for (const b of f.dependsOn.blocking) out.push(`    blocked by: ${b}`);
  }
  for (const s of f.selectedBy)
    out.push(
      `  selected by ${s.symbol} [=${s.value}]${s.condition.expr !== "y" ? ` if ${s.condition.expr} [=${s.condition.value}]` : ""}${s.active ? "" : " (inactive)"}`,
    );
  for (const s of f.impliedBy)
    out.push(
      `  implied by ${s.symbol} [=${s.value}]${s.condition.expr !== "y" ? ` if ${s.condition.expr} [=${s.condition.value}]` : ""}${s.active ? "" : " (inactive)"}`,
    );
  f.defaults.forEach((d, i) => {
    out.push(
      `  default ${d.value}${d.condition.expr !== "y" ? ` if ${d.condition.expr} [=${d.condition.value}]` : ""} (${d.file}:${d.line})${i === f.appliedDefault ? " ← applied" : ""}`,
    );
  });
  if (f.range) out.push(`  range ${f.range.min} ${f.range.max}`);
  if (f.choice) out.push(`  choice: ${f.choice.values.join(", ")}; selected: ${f.choice.selected ?? "none"}`);
  for (const t of f.toEnable) out.push(`  to change it first: ${t}`);
  return out;
}
