/**
 * In-memory Kconfig trees for the engine's tests: a host whose files are a
 * map, whose `$(shell,…)` answers from a table, and whose environment is given.
 */
import type { KconfigHost } from "../../src/kconfig/index.js";

export interface MemoryHost extends KconfigHost {
  infos: string[];
  warnings: string[];
  shellCalls: string[];
}

/** A host over `files` (path → text); `shell` maps commands to their output. */
export function memoryHost(
  files: Record<string, string>,
  env: Record<string, string> = {},
  shell: Record<string, string> = {},
): MemoryHost {
  const infos: string[] = [];
  const warnings: string[] = [];
  const shellCalls: string[] = [];
  return {
    env,
    infos,
    warnings,
    shellCalls,
    readFile: (p) => files[p],
    glob: (pattern) => {
      const re = new RegExp(
        `^${pattern
          .replace(/[.+^${}()|\\]/g, "\\$&")
          .replace(/\*/g, "[^/]*")
          .replace(/\?/g, "[^/]")}$`,
      );
      return Object.keys(files)
        .filter((f) => re.test(f))
        .sort();
    },
    shell: (cmd) => {
      shellCalls.push(cmd);
      const out = shell[cmd];
      if (out === undefined) throw new Error(`unexpected shell command in test: ${cmd}`);
      return out;
    },
    info: (t) => infos.push(t),
    warn: (t) => warnings.push(t),
  };
}
