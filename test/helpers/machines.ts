/**
 * Watching machines from a test: the QEMU processes a KILN_HOME owns, and a
 * machine's console log in the instance store.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** QEMU processes themselves (not their supervisor shell) whose command line names `home` (a KILN_HOME). */
export function qemuPidsUnder(home: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
    } catch {
      continue; // exited meanwhile
    }
    if (/(^|\/)qemu-system-/.test(argv[0] ?? "") && argv.some((a) => a.includes(home)))
      pids.push(Number(entry));
  }
  return pids;
}

/** A machine's console log under `home` ("" before it exists). */
export function consoleLog(home: string, name: string): string {
  try {
    return readFileSync(join(home, "state/machines", name, "console.log"), "utf8");
  } catch {
    return "";
  }
}

/** Wait until a machine's console log matches `re`; fails with the log's tail after `timeoutMs`. */
export async function waitForLog(home: string, name: string, re: RegExp, timeoutMs = 90_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (re.test(consoleLog(home, name))) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`console of ${name} never matched ${re}; log tail:\n${consoleLog(home, name).slice(-2000)}`);
}
