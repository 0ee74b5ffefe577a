/**
 * Why a requested value did not survive, in one line:
 * `depends on ARCH_X86_64 && (HAVE_X) — HAVE_X is n`, `selected by A`, …
 */
import { why } from "./explain.js";
import type { Config } from "./ops.js";

/** The reason a requested `.config` line is not in the result. */
export function explainDrop(c: Config, symbol: string, requestedLine: string): string {
  const s = c.tree.syms.get(symbol);
  if (!s || s.nodes.length === 0) return `${symbol} is not defined in this Kconfig tree`;
  const f = why(c, symbol);
  const wantN = requestedLine.startsWith("# ") || requestedLine.endsWith("=n");
  if (wantN) {
    const sel = f.selectedBy.filter((x) => x.active).map((x) => x.symbol);
    if (sel.length) return `selected by ${sel.join(", ")}`;
    const imp = f.impliedBy.filter((x) => x.active).map((x) => x.symbol);
    if (!f.changeable && imp.length) return `implied by ${imp.join(", ")}`;
    if (f.definitions.every((d) => d.prompt === undefined)) return "has no prompt: its default applies";
  }
  if (f.dependsOn && f.dependsOn.value !== "y" && !wantN) {
    return `depends on ${f.dependsOn.expr} — ${f.dependsOn.blocking.join(", ")}`;
  }
  if (f.visibility === "n") {
    if (f.definitions.every((d) => d.prompt === undefined)) return "has no prompt: its default applies";
    return `its prompt is hidden: ${f.toEnable.join(", ")}`;
  }
  if (f.range && outside(requestedLine, f.range)) return `outside its range ${f.range.min}..${f.range.max}`;
  if (f.choice) return `choice selects ${f.choice.selected ?? "nothing"}`;
  if (f.type === "bool" && requestedLine.endsWith("=m")) return "bool symbols cannot be m";
  if (f.visibility === "m" && requestedLine.endsWith("=y")) return "its dependencies are m, so at most m";
  return `value is ${f.value}`;
}

/** Whether the requested number lies outside `range` (an unparsable one counts as outside). */
function outside(requestedLine: string, range: { min: string; max: string }): boolean {
  const v = requestedLine.slice(requestedLine.indexOf("=") + 1).trim();
  const num = (t: string) =>
    /^-?0x[0-9a-f]+$/i.test(t) ? Number.parseInt(t, 16) : /^-?\d+$/.test(t) ? Number(t) : Number.NaN;
  const [x, lo, hi] = [num(v), num(range.min), num(range.max)];
  return Number.isNaN(x) || Number.isNaN(lo) || Number.isNaN(hi) || x < lo || x > hi;
}
