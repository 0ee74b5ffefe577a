/**
 * Kconfig fragments, pure: reading `CONFIG_NAME=value` and
 * `# CONFIG_NAME is not set` lines, merging fragments in order with every
 * override reported (what the kernel's scripts/kconfig/merge_config.sh
 * prints as "Value of CONFIG_X is redefined by fragment"), and checking that
 * the requested values survived into the final `.config` (merge_config.sh's
 * "Requested value ... Actual value" check, which it only warns about; Kiln
 * refuses instead).
 */
import { KilnError } from "../core/errors.js";
import type { ConfigOverride, RequestedOption } from "./types.js";

/** One assignment with where it was written. */
export interface Assignment {
  value: string;
  source: string;
  line: number;
}

const SET = /^CONFIG_([A-Za-z0-9_]+)=(.*)$/;
const UNSET = /^# CONFIG_([A-Za-z0-9_]+) is not set$/;

/**
 * The assignments of a fragment or `.config` (`n` for "is not set").
 * Other comments and blank lines are skipped; anything else is an error
 * naming the file and line, as a typo would otherwise be silently ignored.
 */
export function parseAssignments(text: string, source: string): Map<string, Assignment> {
  const out = new Map<string, Assignment>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === "") continue;
    const set = SET.exec(raw);
    const unset = set ? undefined : UNSET.exec(raw);
    if (set) out.set(set[1]!, { value: set[2]!, source, line: i + 1 });
    else if (unset) out.set(unset[1]!, { value: "n", source, line: i + 1 });
    else if (!raw.startsWith("#")) {
      throw new KilnError("KERNEL_BAD_FRAGMENT", `not a Kconfig assignment: ${raw}`, {
        hint: "write CONFIG_NAME=y|m|value or '# CONFIG_NAME is not set'",
        location: { file: source, line: i + 1, col: 1 },
      });
    }
  }
  return out;
}

/** Merge fragments in order; later values win and each change is reported. */
export function mergeAssignments(parts: Map<string, Assignment>[]): {
  merged: Map<string, Assignment>;
  overrides: ConfigOverride[];
} {
  const merged = new Map<string, Assignment>();
  const overrides: ConfigOverride[] = [];
  for (const part of parts) {
    for (const [option, a] of part) {
      const prev = merged.get(option);
      if (prev && prev.value !== a.value) {
        overrides.push({
          option,
          from: prev.value,
          to: a.value,
          fromSource: `${prev.source}:${prev.line}`,
          toSource: `${a.source}:${a.line}`,
        });
      }
      merged.set(option, a);
    }
  }
  return { merged, overrides };
}

/** A fragment text from assignments. */
export function renderAssignments(assignments: Map<string, Assignment>): string {
  const lines: string[] = [];
  for (const [option, a] of assignments) {
    lines.push(a.value === "n" ? `# CONFIG_${option} is not set` : `CONFIG_${option}=${a.value}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The value of every option in a `.config` (`n` for unset ones). */
export function configValues(dotconfig: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, a] of parseAssignments(dotconfig, ".config")) out.set(k, a.value);
  return out;
}

/**
 * The requested options whose final value differs from the request. An
 * option absent from the final `.config` counts as `n` (Kconfig drops
 * symbols whose dependencies are off).
 */
export function unsetRequests(requested: Map<string, Assignment>, dotconfig: string): RequestedOption[] {
  const final = configValues(dotconfig);
  const out: RequestedOption[] = [];
  for (const [option, a] of requested) {
    const actual = final.get(option) ?? "n";
    if (actual !== a.value) {
      out.push({ option, requested: a.value, actual, source: `${a.source}:${a.line}` });
    }
  }
  return out;
}
