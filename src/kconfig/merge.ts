/**
 * Fragment merging with scripts/kconfig/merge_config.sh's semantics: later
 * fragments override earlier values (each override reported), the merged
 * file seeds `alldefconfig` (or `allnoconfig`) as KCONFIG_ALLCONFIG, and
 * every requested value that is not in the result is reported with the
 * reason from {@link why}.
 */
import { explainDrop } from "./drop.js";
import { allconfig, type Config } from "./ops.js";
import type { KconfigTree } from "./types.js";

/** A value a later fragment changed. */
export interface MergeOverride {
  symbol: string;
  previous: string;
  value: string;
  fragment: string;
}

/** A requested value that did not survive. */
export interface DroppedValue {
  symbol: string;
  requested: string;
  actual: string;
  reason: string;
}

export interface MergeResult {
  config: Config;
  merged: string;
  overrides: MergeOverride[];
  dropped: DroppedValue[];
}

const LINE = /^(# )?CONFIG_([A-Za-z0-9_]+)[= ]/;

/** The `.config` line for a symbol as merge_config.sh compares them. */
function entries(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of text.split("\n")) {
    const r = LINE.exec(l);
    if (r?.[2]) m.set(r[2], l);
  }
  return m;
}

/** merge_config.sh BASE FRAGMENT…, then `make alldefconfig` (or allnoconfig with `allno`). */
export function mergeFragments(
  tree: KconfigTree,
  base: { name: string; text: string },
  fragments: { name: string; text: string }[],
  opts: { allno?: boolean } = {},
): MergeResult {
  const merged = entries(base.text);
  const order: string[] = [...merged.keys()];
  const overrides: MergeOverride[] = [];
  for (const f of fragments) {
    for (const [sym, line] of entries(f.text)) {
      const prev = merged.get(sym);
      if (prev !== undefined && prev !== line)
        overrides.push({ symbol: sym, previous: prev, value: line, fragment: f.name });
      if (prev === undefined) order.push(sym);
      else {
        order.splice(order.indexOf(sym), 1);
        order.push(sym);
      }
      merged.set(sym, line);
    }
  }
  const mergedText = order.map((s) => `${merged.get(s)}\n`).join("");
  const config = allconfig(tree, opts.allno ? "no" : "default", mergedText);
  const dropped: DroppedValue[] = [];
  for (const sym of order) {
    const line = merged.get(sym) as string;
    const s = tree.syms.get(sym);
    const actual = s && s.type !== "unknown" ? config.value(sym) : undefined;
    const actualLine =
      actual === undefined
        ? ""
        : (s?.type === "bool" || s?.type === "tristate") && actual === "n"
          ? `# CONFIG_${sym} is not set`
          : `CONFIG_${sym}=${s?.type === "string" ? JSON.stringify(actual) : actual}`;
    const written = config.dotconfig().includes(`${line}\n`);
    if (written) continue;
    // merge_config.sh: "is not set" requests are satisfied by an absent symbol too
    if (line.startsWith("# ") && (actual === undefined || actual === "n")) continue;
    dropped.push({
      symbol: sym,
      requested: line,
      actual: actualLine || "(not in the final .config)",
      reason: explainDrop(config, sym, line),
    });
  }
  return { config, merged: mergedText, overrides, dropped };
}
