/**
 * Setting values as a user would in menuconfig (symbol.c
 * sym_set_tristate_value / sym_set_string_value, with
 * sym_tristate_within_range / sym_string_within_range deciding what is
 * possible): applied values, refused values with the reason, and every other
 * symbol whose value changed as a consequence.
 */
import { why } from "./explain.js";
import type { Config } from "./ops.js";
import type { Sym, Tri } from "./types.js";
import { F } from "./types.js";

/** The outcome of {@link setValues}. */
export interface SetReport {
  applied: { symbol: string; value: string }[];
  refused: { symbol: string; requested: string; reason: string }[];
  /** Other symbols whose value changed (before → after). */
  changes: { symbol: string; from: string; to: string }[];
}

function snapshot(c: Config): Map<string, string> {
  const m = new Map<string, string>();
  c.ev.clearAllValid();
  for (const s of c.tree.syms.values()) {
    if (s.type === "unknown" || s.nodes.length === 0) continue;
    c.ev.calc(s);
    m.set(s.name, c.ev.stringValue(s));
  }
  return m;
}

function refuseReason(c: Config, s: Sym, value: string): string {
  const f = why(c, s.name);
  if (s.visible === 0) {
    const b = f.toEnable.length ? f.toEnable.join("; ") : "it has no visible prompt";
    return `${s.name} cannot be set: ${b}`;
  }
  if ((s.type === "bool" || c.ev.getType(s) === "bool") && value === "m")
    return `${s.name} is ${s.type === "bool" ? "bool" : "tristate without MODULES"}: m is not possible`;
  if (s.revDepTri > 0) {
    const sel = f.selectedBy.filter((x) => x.active).map((x) => x.symbol);
    return `${s.name} is selected to ${["n", "m", "y"][s.revDepTri]} by ${sel.join(", ")}`;
  }
  if (f.range) return `${value} is outside ${s.name}'s range ${f.range.min}..${f.range.max}`;
  if (s.visible === 1 && value === "y") return `${s.name} can be at most m: its dependencies are m`;
  return `${value} is not a valid ${s.type} value`;
}

/**
 * Applies `values` (`{SYM: "y"}`; a `CONFIG_` prefix is accepted; `undefined`
 * unsets: the symbol returns to its default) in order.
 */
export function setValues(c: Config, values: Record<string, string | undefined>): SetReport {
  const report: SetReport = { applied: [], refused: [], changes: [] };
  const before = snapshot(c);
  const ev = c.ev;

  for (const [raw, value] of Object.entries(values)) {
    const name = raw.replace(/^CONFIG_/, "");
    const s = c.tree.syms.get(name);
    if (!s || s.nodes.length === 0 || s.type === "unknown") {
      report.refused.push({
        symbol: name,
        requested: value ?? "(unset)",
        reason: `${name} is not defined in this Kconfig tree`,
      });
      continue;
    }
    ev.clearAllValid();
    ev.calc(s);
    if (value === undefined) {
      s.flags &= ~F.DEF_USER;
      report.applied.push({ symbol: name, value: "(default)" });
      continue;
    }
    if (s.type === "bool" || s.type === "tristate") {
      const v = value.toLowerCase();
      const tri = (v === "y" ? 2 : v === "m" ? 1 : v === "n" ? 0 : -1) as Tri | -1;
      if (tri === -1 || !ev.triWithinRange(s, tri)) {
        // setting the value it already has is no change, not a refusal
        if (tri !== -1 && ev.stringValue(s) === v) {
          report.applied.push({ symbol: name, value: v });
          continue;
        }
        report.refused.push({
          symbol: name,
          requested: value,
          reason: tri === -1 ? `'${value}' is not y, m or n` : refuseReason(c, s, v),
        });
        continue;
      }
      s.flags |= F.DEF_USER;
      if (s.flags & F.CHOICEVAL && tri === 2 && s.choice) {
        const cs = s.choice;
        cs.userChoice = s;
        cs.flags |= F.DEF_USER;
        for (const o of cs.choiceValues) if (o.visible !== 0) o.flags |= F.DEF_USER;
      }
      s.userTri = tri;
      report.applied.push({ symbol: name, value: v });
    } else {
      let v = value;
      if (s.type === "hex" && !/^0[xX]/.test(v) && /^[0-9a-fA-F]+$/.test(v)) v = `0x${v}`;
      if (!ev.stringWithinRange(s, v) || s.visible === 0) {
        report.refused.push({ symbol: name, requested: value, reason: refuseReason(c, s, v) });
        continue;
      }
      s.userVal = v;
      s.flags |= F.DEF_USER;
      report.applied.push({ symbol: name, value: v });
    }
  }
  const after = snapshot(c);
  const applied = new Set(report.applied.map((a) => a.symbol));
  for (const [k, v] of after) {
    const b = before.get(k);
    if (b !== undefined && b !== v && !applied.has(k)) report.changes.push({ symbol: k, from: b, to: v });
  }
  return report;
}
