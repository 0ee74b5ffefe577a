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
import { formatArgv, tail } from "../core/exec.js";
import { debug } from "../core/log.js";

/** File names inside an instance directory, shared by drivers and the store. */
export const INSTANCE_FILES = {
  spec: "spec.json",
  state: "state.json",
  consoleLog: "console.log",
  /** One time per console line (Unix seconds, microseconds), written as the lines land: `console-times.ts`. */
  consoleTimes: "console.times",
  /**
   * The console's input: a FIFO QEMU opens read-write (so it never sees end of
   * file) and reads only when the guest's UART can take bytes.
   */
  consoleInput: "console.in",
  /** QEMU's `pipe` chardev writes to `<path>.out`: a symbolic link to `console.log`. */
  consoleOutput: "console.out",
  qmpSocket: "qmp.sock",
  pidfile: "vmm.pid",
  vmmLog: "vmm.log",
  exitStatus: "exit-status",
  /** QEMU's trace of shutdown requests (`-trace qemu_system_shutdown_request -D …`): see qemu/argv.ts. */
  vmmEvents: "vmm-events.log",
  /** The kernel command line as a QEMU config file, when it carries `-e` values (see qemu/argv.ts). */
  kernelConfig: "kernel-cmdline.cfg",
  /** Written by the supervisor when it ended the VMM itself: `client-gone` or `timeout`. */
  endedBy: "ended-by",
  lock: "lock",
} as const;

// The VMM keeps /dev/null as stdin. `umask 077`: the control and console
// sockets the VMM creates (QMP, console, Firecracker's API) and its logs are
// the user's alone (mode 0600). The status is written to a temporary file and
// renamed so a reader never sees a partial one.
//
// The supervisor also owns what must happen when Kiln itself is gone (issue 9; conmon and
// containerd-shim own their workloads the same way): given the foreground client's pid ($1), it
// ends the VMM once that process is gone (kill -9 of `kiln run`), and given a deadline in
// seconds ($2, `--timeout` plus a grace so the client's own, better reported, stop comes first),
// it ends the VMM then. Either way it says why in `ended-by`. A check a second costs nothing.
const STAMPER =
  'tail -n +1 -f --pid="$1" console.log 2>/dev/null | while IFS= read -r l || [ -n "$l" ]; do echo "$EPOCHREALTIME"; done > console.times';
// Given a FIFO path ($3), it makes it first (mode 0600, the console's input, see qemu/driver.ts):
// one fork of the shell instead of a process Node spawns and waits for on the way to the VMM.
// A FIFO that cannot be made ends the start with mkfifo's own message in vmm.log.
const SUPERVISOR = [
  "umask 077; client=$1; deadline=$2; fifo=$3; shift 3",
  'if [ -n "$fifo" ]; then mkfifo -m 600 -- "$fifo" || exit; fi',
  '"$@" & vmm=$!',
  'if [ -n "$client$deadline" ]; then (n=0; while kill -0 "$vmm" 2>/dev/null; do',
  '  if [ -n "$client" ] && ! kill -0 "$client" 2>/dev/null; then echo client-gone > ended-by; kill -TERM "$vmm"; break; fi',
  '  if [ -n "$deadline" ] && [ "$n" -ge "$deadline" ]; then echo timeout > ended-by; kill -TERM "$vmm"; break; fi',
  "  sleep 1; n=$((n + 1)); done) & fi",
  // The console's line times (`kiln logs -t/--since`): the VMM writes console.log itself, so a
  // follower stamps each line as it lands (GNU tail -f wakes on inotify; bash's $EPOCHREALTIME
  // costs no process per line). `--pid` ends it once the VMM is gone. See console-times.ts.
  `if [ -x /bin/bash ]; then LC_ALL=C /bin/bash -c '${STAMPER}' kiln-stamper "$vmm" & fi`,
  'wait "$vmm"; s=$?; echo "$s" > exit-status.tmp && mv -f exit-status.tmp exit-status; exit "$s"',
].join("\n");

/** What a supervisor watches besides its VMM (foreground runs): see {@link SUPERVISOR}. */
export interface SupervisorWatch {
  /** End the VMM when this process (the `kiln run` client) is gone. */
  clientPid?: number;
  /** End the VMM after this many seconds. */
  deadlineSec?: number;
}

/** What the supervisor prepares before it starts the VMM. */
export interface SupervisorSetup {
  /** Make this FIFO (mode 0600; it must not exist) before the VMM starts. */
  fifo?: string;
}

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
  watch: SupervisorWatch = {},
  setup: SupervisorSetup = {},
): Promise<Supervised> {
  const log = openSync(join(instanceDir, INSTANCE_FILES.vmmLog), "a");
  const watched = [
    watch.clientPid === undefined ? "" : String(watch.clientPid),
    watch.deadlineSec === undefined ? "" : String(Math.ceil(watch.deadlineSec)),
    setup.fifo ?? "",
  ];
  debug(`kiln: start ${formatArgv(argv)} (supervised, in ${instanceDir})`);
  const child = spawn("/bin/sh", ["-c", SUPERVISOR, "kiln-supervisor", ...watched, ...argv], {
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

/** Why the supervisor ended the VMM itself (`client-gone`, `timeout`), if it did. */
export async function readEndedBy(instanceDir: string): Promise<string | undefined> {
  const text = await readFile(join(instanceDir, INSTANCE_FILES.endedBy), "utf8").catch(() => "");
  return text.trim() || undefined;
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
