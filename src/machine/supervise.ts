/**
 * Run a VMM so that it outlives Kiln and its end is recorded. The VMM runs
 * under a tiny `sh` supervisor in a new session (`setsid`, so Ctrl-C in the
 * terminal or `kill -9` of Kiln does not reach it); when the VMM exits, the
 * supervisor writes its status to `<instanceDir>/exit-status` (`$?`, 128+N
 * for signal N, as shells report it). A detached VMM is not Kiln's child once
 * Kiln exits, so this file is the only way `kiln ps` can later tell *how* it
 * ended. The VMM's own stdout/stderr go to `<instanceDir>/vmm.log`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { openSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { KilnError } from "../core/errors.js";
import { tail } from "../core/exec.js";

/** File names inside an instance directory, shared by drivers and the store. */
export const INSTANCE_FILES = {
  spec: "spec.json",
  state: "state.json",
  consoleLog: "console.log",
  consoleSocket: "console.sock",
  qmpSocket: "qmp.sock",
  pidfile: "vmm.pid",
  vmmLog: "vmm.log",
  exitStatus: "exit-status",
  /** QEMU's trace of shutdown requests (`-trace qemu_system_shutdown_request -D …`): see qemu/argv.ts. */
  vmmEvents: "vmm-events.log",
  /** The kernel command line as a QEMU config file, when it carries `-e` values (see qemu/argv.ts). */
  kernelConfig: "kernel-cmdline.cfg",
  lock: "lock",
} as const;

// The VMM keeps /dev/null as stdin. `umask 077`: the control and console
// sockets the VMM creates (QMP, console, Firecracker's API) and its logs are
// the user's alone (mode 0600). The status is written to a temporary file and
// renamed so a reader never sees a partial one.
const SUPERVISOR =
  'umask 077; "$@"; s=$?; echo "$s" > exit-status.tmp && mv -f exit-status.tmp exit-status; exit "$s"';

export interface Supervised {
  /** The supervisor shell's pid (its process group is the whole machine). */
  supervisorPid: number;
  child: ChildProcess;
  /** Resolves with the VMM's exit status (shell convention) when it ends. */
  exited: Promise<number>;
}

/** Start `argv` supervised in `instanceDir`. Rejects if the shell cannot start. */
export async function spawnSupervised(
  argv: readonly string[],
  instanceDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Supervised> {
  const log = openSync(join(instanceDir, INSTANCE_FILES.vmmLog), "a");
  const child = spawn("/bin/sh", ["-c", SUPERVISOR, "kiln-supervisor", ...argv], {
    cwd: instanceDir,
    env,
    detached: true,
    stdio: ["ignore", log, log],
  });
  const exited = new Promise<number>((resolve) => {
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 + signalNumber(signal) : 1)));
  });
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", (e) =>
      reject(new KilnError("EXEC_FAILED", `could not start the VMM supervisor: ${e.message}`, { cause: e })),
    );
  });
  // Kiln must be free to exit while the machine runs on (detached runs).
  child.unref();
  return { supervisorPid: child.pid!, child, exited };
}

function signalNumber(signal: NodeJS.Signals): number {
  const n: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return n[signal] ?? 0;
}

/** The recorded exit status of an instance's VMM, or undefined if not (yet) written. */
export async function readExitStatus(instanceDir: string): Promise<number | undefined> {
  try {
    const text = await readFile(join(instanceDir, INSTANCE_FILES.exitStatus), "utf8");
    const n = Number.parseInt(text.trim(), 10);
    return Number.isNaN(n) ? undefined : n;
  } catch {
    return undefined;
  }
}

/** The instance's `vmm-events.log` (QEMU's shutdown-request trace), undefined when it was not written. */
export async function readVmmEvents(instanceDir: string): Promise<string | undefined> {
  return readFile(join(instanceDir, INSTANCE_FILES.vmmEvents), "utf8").catch(() => undefined);
}

/**
 * The last `lines` non-empty lines of an instance's `vmm.log` (the VMM's own
 * stdout/stderr, where QEMU explains why it failed), `[]` if there is none.
 */
export async function readVmmLogTail(instanceDir: string, lines = 10): Promise<string[]> {
  try {
    const text = await readFile(join(instanceDir, INSTANCE_FILES.vmmLog), "utf8");
    return tail(text.slice(-16 * 1024), lines);
  } catch {
    return [];
  }
}

/** Whether a process exists (signal 0); a zombie counts as gone only once reaped. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
