/**
 * Test helpers: run the `kiln` CLI from source (through tsx, so no build is
 * needed) and make scratch directories that are removed after the test.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { TestContext } from "node:test";
import { qemuPidsUnder } from "./machines.js";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");
/**
 * The shared reference tree: `../shared` beside the repository, or
 * `KILN_SHARED` for a clone elsewhere (read at run time, never copied).
 */
export const SHARED_ROOT = resolve(process.env.KILN_SHARED ?? resolve(REPO_ROOT, "../shared"));
/** `../shared/data`: KraftKit's schemas, the catalog, Firecracker's spec and guest configs. */
export const SHARED_DATA = join(SHARED_ROOT, "data");
export const SHARED_SEEDS = join(SHARED_ROOT, "seeds");

/**
 * Whether a test reading `rel` (under the shared tree: `data/…`, `seeds`)
 * must skip: false when it is there, else the reason, naming what is missing
 * and how to provide it. Under `CI=true` a missing tree is an error instead:
 * CI has the reference data and must run every test that reads it.
 */
export function sharedSkip(rel: string): string | false {
  const path = join(SHARED_ROOT, rel);
  if (existsSync(path)) return false;
  const reason = `reference data ${path} is missing: put the shared/ tree beside the repository or set KILN_SHARED=/path/to/shared`;
  if (process.env.CI === "true") throw new Error(`CI=true and ${reason} (CI must not skip these tests)`);
  return reason;
}
/**
 * tsx's loader as a file URL, so `node --import` finds it whatever the child's
 * working directory (a bare `tsx` resolves against the cwd).
 */
export const TSX_LOADER = import.meta.resolve("tsx");
/** argv prefix that runs the CLI from source: `[node, --import, tsx, src/cli/main.ts]`. */
export const KILN_FROM_SOURCE = [
  process.execPath,
  "--import",
  TSX_LOADER,
  join(REPO_ROOT, "src/cli/main.ts"),
];

export interface KilnRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunKilnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
}

/** Run `kiln ARGS…` to completion. `NO_COLOR` is set so output is plain. */
export function runKiln(args: string[], opts: RunKilnOptions = {}): Promise<KilnRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(KILN_FROM_SOURCE[0]!, [...KILN_FROM_SOURCE.slice(1), ...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: { ...process.env, NO_COLOR: "1", ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? "");
  });
}

/**
 * A fresh temporary directory, removed when the test ends — together with any
 * QEMU still using it (a test that failed, or whose Kiln was killed, may leave
 * a machine behind: by design it outlives Kiln).
 */
export function scratchDir(t: TestContext, prefix = "kiln-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => {
    killQemusUsing(dir);
    // A killed QEMU's supervisor (exit status) and console stamper still write into the machine's
    // directory for a moment, longer on a loaded machine: wait for them to leave before removing.
    awaitProcessesLeaving(dir, 5000);
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });
  return dir;
}

/**
 * Wait (up to `timeoutMs`) until no other process works in `dir`: none has its
 * current directory there or names it on its command line.
 */
export function awaitProcessesLeaving(dir: string, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  const inDir = (p: string) => p === dir || p.startsWith(`${dir}/`);
  const busy = (): boolean => {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      try {
        if (inDir(readlinkSync(`/proc/${entry}/cwd`))) return true;
        if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(dir)) return true;
      } catch {
        // exited meanwhile, or not ours to read
      }
    }
    return false;
  };
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (busy() && Date.now() < deadline) Atomics.wait(pause, 0, 0, 50);
}

/** SIGKILL every QEMU whose command line mentions `dir`. */
export function killQemusUsing(dir: string): void {
  for (const pid of qemuPidsUnder(dir)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}
