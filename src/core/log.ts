/**
 * Debug output (`--verbose`, `KILN_LOG=debug`): a process-wide sink the CLI
 * turns on, so deep code (each external command `exec` runs, each VMM Kiln
 * spawns) can say what it does without threading a reporter everywhere.
 * Off by default: the library prints nothing unless asked.
 */

let sink: ((line: string) => void) | undefined;

/** Send debug lines to `fn` (undefined: off). */
export function setDebugSink(fn: ((line: string) => void) | undefined): void {
  sink = fn;
}

/** Whether debug output is on (to skip building costly messages). */
export function debugEnabled(): boolean {
  return sink !== undefined;
}

/** One debug line (dropped unless debug output is on). */
export function debug(line: string): void {
  sink?.(line);
}
