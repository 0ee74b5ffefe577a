/**
 * State shared while fetching one project's sources: the options, the mirror
 * list, and what could not be found (collected so `--offline` names every
 * missing piece at once rather than the first).
 */
import type { Reporter } from "../../core/output.js";
import type { Mirror } from "./mirrors.js";

export interface SourceContext {
  env: NodeJS.ProcessEnv;
  mirrors: Mirror[];
  /** Use only the cache and mirrors, never an upstream. */
  offline: boolean;
  reporter: Reporter;
  signal?: AbortSignal;
  /** One entry per missing component or archive: what and the places tried. */
  missing: MissingSource[];
}

/** Something that could not be found, and everywhere Kiln looked. */
export interface MissingSource {
  what: string;
  tried: string[];
}

/** Detail lines for a list of missing sources. */
export function formatMissing(missing: MissingSource[]): string[] {
  const lines: string[] = [];
  for (const m of missing) {
    lines.push(`missing: ${m.what}`);
    for (const t of m.tried) lines.push(`  tried: ${t}`);
  }
  return lines;
}
