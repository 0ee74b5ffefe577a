/**
 * Fragment merging with scripts/kconfig/merge_config.sh's semantics: for each
 * fragment, the base lines of every symbol it sets are deleted (an override
 * is reported when the value differs) and the fragment is appended; the
 * merged file seeds `alldefconfig` (or `allnoconfig`, merge_config.sh -n) as
 * KCONFIG_ALLCONFIG; then every requested line that is not in the result is
 * reported, as merge_config.sh does, with the reason from {@link explainDrop}.
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
  /** The merged file that seeded the configuration. */
  merged: string;
  overrides: MergeOverride[];
  dropped: DroppedValue[];
}

const SET = /^CONFIG_([a-zA-Z0-9_]*)=.*/;
const UNSET = /^# CONFIG_([a-zA-Z0-9_]*) is not set$/;

/** merge_config.sh's CFG list: symbols a file sets or unsets, in order. */
function cfgList(text: string): string[] {
  const out: string[] = [];
  for (const l of text.split("\n")) {
    const m = SET.exec(l) ?? UNSET.exec(l);
    if (m?.[1] !== undefined) out.push(m[1]);
  }
  return out;
}

/** `grep -w CONFIG_X`: lines containing the name as a whole word. */
function grepWord(text: string, word: string): string[] {
  const re = new RegExp(`(^|[^A-Za-z0-9_])${word}($|[^A-Za-z0-9_])`);
  return text.split("\n").filter((l) => re.test(l));
}

/** merge_config.sh [-n] BASE FRAGMENT… (including its make run and final check). */
export function mergeFragments(
  tree: KconfigTree,
  base: { name: string; text: string },
  fragments: { name: string; text: string }[],
  opts: { allno?: boolean } = {},
): MergeResult {
  let tmp = base.text;
  const overrides: MergeOverride[] = [];
  for (const f of fragments) {
    for (const sym of cfgList(f.text)) {
      const cfg = `CONFIG_${sym}`;
      const prev = grepWord(tmp, cfg);
      if (prev.length === 0) continue;
      const next = grepWord(f.text, cfg);
      if (prev.join("\n") !== next.join("\n")) {
        overrides.push({ symbol: sym, previous: prev.join("\n"), value: next.join("\n"), fragment: f.name });
      }
      const del = new RegExp(`${cfg}[ =]`);
      tmp = tmp
        .split("\n")
        .filter((l) => !del.test(l))
        .join("\n");
    }
    tmp = `${tmp}\n${f.text}`;
  }
  const config = allconfig(tree, opts.allno ? "no" : "default", tmp);
  const written = config.dotconfig();
  const dropped: DroppedValue[] = [];
  for (const sym of new Set(cfgList(tmp))) {
    const cfg = `CONFIG_${sym}`;
    const requested = grepWord(tmp, cfg).join("\n");
    const actual = grepWord(written, cfg).join("\n");
    if (requested !== actual) {
      dropped.push({ symbol: sym, requested, actual, reason: explainDrop(config, sym, requested) });
    }
  }
  return { config, merged: tmp, overrides, dropped };
}
