/**
 * The instance store: one directory per machine under
 * `kilnDirs().stateDir/machines/<name>/` holding `spec.json` (what was asked),
 * `state.json` (what is known, written atomically), the console log, sockets,
 * the pidfile and the supervisor's `exit-status`. Writers hold a lock
 * (`proper-lockfile`, a `mkdir` lock that also works across processes and is
 * reclaimed when stale), so concurrent Kiln commands never corrupt a record;
 * name allocation holds the store-wide lock so names stay unique.
 *
 * Records are reconciled with reality when read: a "running" machine whose
 * VMM process is gone becomes "exited", with the reason derived from the
 * recorded exit status and the console log (see {@link reconcile}).
 */
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { access, mkdir, readdir, readFile, readlink, realpath, rename, rm, rmdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { errnoCode, KilnError } from "../core/errors.js";
import { tail } from "../core/exec.js";
import { writeFileAtomic } from "../core/fs.js";
import { kilnDirs } from "../core/paths.js";
import type { GuestExit, MachineSpec, PortForward, VmmExitContext } from "./driver.js";
import { generateName, validateName } from "./spec.js";
import {
  INSTANCE_FILES,
  processAlive,
  readEndedBy,
  readExitStatus,
  readVmmEvents,
  readVmmLogTail,
} from "./supervise.js";

/** `created`: made by `kiln run --no-start`, never started yet (docker's `created`). */
export type MachineState = "created" | "starting" | "running" | "exited";

/** What Kiln knows about a machine (`state.json`). */
export interface MachineRecord {
  name: string;
  vmm: string;
  state: MachineState;
  kernel: string;
  platform: string;
  architecture: string;
  memMiB: number;
  cpus: number;
  ports: PortForward[];
  accel?: "kvm" | "tcg";
  /** VMM process id. */
  pid?: number;
  /** ISO timestamps. */
  createdAt: string;
  startedAt?: string;
  exitedAt?: string;
  exitCode?: number;
  reason?: string;
  /** Remove the machine when it exits (`--rm`). */
  autoRemove: boolean;
  /** Whether it was started detached. */
  detached: boolean;
  /** Its supervisor ended it (the foreground client was killed, or `--timeout` passed without it). */
  endedBySupervisor?: boolean;
  argv?: string[];
}

/** The directory holding all machines. */
export function machinesDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(kilnDirs(env).stateDir, "machines");
}

/** A machine's instance directory. */
export function instanceDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(machinesDir(env), name);
}

const LOCK_OPTS = {
  retries: { retries: 100, factor: 1.2, minTimeout: 10, maxTimeout: 200 },
  stale: 15_000,
  realpath: false,
  // A record removed (renamed away) while locked: nothing is left to protect, and the default
  // handler would throw from a timer.
  onCompromised: () => {},
};

/** The error for a store directory Kiln cannot write, or undefined for other errors. */
function storeNotWritable(dir: string, e: unknown): KilnError | undefined {
  const code = errnoCode(e);
  if (code !== "EROFS" && code !== "EACCES" && code !== "EPERM") return undefined;
  return new KilnError(
    "STORE_READ_ONLY",
    `the machine store ${dir} is not writable (${code === "EROFS" ? "read-only file system" : "permission denied"}, ${code})`,
    { cause: e, hint: "point KILN_HOME (or XDG_STATE_HOME) at a writable directory, or fix its permissions" },
  );
}

/** A machine directory that is not there (any more): a concurrent `kiln rm` removed it. */
function machineGone(dir: string): KilnError {
  return new KilnError("MACHINE_NOT_FOUND", `no machine named "${basename(dir)}"`, {
    hint: "list machines with: kiln ps -a",
  });
}

/**
 * Take a free lock the way proper-lockfile takes it (an atomic `mkdir`; the
 * directory's mtime tells others its age), in one system call and without
 * loading proper-lockfile: every `kiln run` takes the store's lock on its way
 * to the VMM (see bench/startup). {@link withLock}'s holders only read and
 * write a record or two, far below `LOCK_OPTS.stale`, so the lock needs none
 * of proper-lockfile's mtime refreshes. Undefined when the lock is held.
 */
async function quickLock(lockfilePath: string): Promise<(() => Promise<void>) | undefined> {
  try {
    await mkdir(lockfilePath);
  } catch (e) {
    if (errnoCode(e) === "EEXIST") return undefined;
    throw e;
  }
  return () => rmdir(lockfilePath);
}

/** Run `fn` holding the lock on `dir` (which must exist). */
export async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  let release: () => Promise<void>;
  // A store Kiln cannot write would otherwise fail only after the lock's retries (~18 s), with a
  // hint blaming another kiln command (issue 9): check first and say what is wrong.
  await access(dir, constants.W_OK).catch((e: unknown) => {
    throw errnoCode(e) === "ENOENT" ? machineGone(dir) : (storeNotWritable(dir, e) ?? e);
  });
  const lockfilePath = join(dir, INSTANCE_FILES.lock);
  try {
    release =
      (await quickLock(lockfilePath)) ??
      // Held by another process: proper-lockfile waits for it (and takes over a stale one). Loaded
      // only then: it pulls in graceful-fs, which patches `fs` as it loads.
      (await (await import("proper-lockfile")).default.lock(dir, { ...LOCK_OPTS, lockfilePath }));
  } catch (e) {
    // The directory went away (a concurrent `kiln rm`): the machine no longer exists.
    if (errnoCode(e) === "ENOENT") throw machineGone(dir);
    throw new KilnError("STORE_LOCKED", `could not lock ${dir}: ${(e as Error).message}`, {
      cause: e,
      hint: "another kiln command holds it; retry in a moment",
    });
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => {});
  }
}

/**
 * Allocate a machine: a unique name (given, or generated) and its directory
 * with `spec.json` and an initial `state.json`. Throws `NAME_IN_USE`.
 */
export async function createInstance(
  spec: Omit<MachineSpec, "name">,
  meta: { name?: string; vmm: string; platform: string; autoRemove: boolean; detached: boolean },
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ dir: string; record: MachineRecord; spec: MachineSpec }> {
  const root = machinesDir(env);
  await mkdir(root, { recursive: true, mode: 0o700 }).catch((e: unknown) => {
    throw storeNotWritable(root, e) ?? e;
  });
  return withLock(root, async () => {
    let name = meta.name === undefined ? undefined : validateName(meta.name);
    const existing = new Set(await readdir(root));
    if (name !== undefined && existing.has(name)) {
      throw new KilnError("NAME_IN_USE", `a machine named "${name}" already exists`, {
        hint: `remove it with: kiln rm -f ${name}   (or choose another -n NAME)`,
      });
    }
    for (let i = 0; name === undefined; i++) {
      const candidate = i < 50 ? generateName() : `${generateName()}_${i}`;
      if (!existing.has(candidate)) name = candidate;
    }
    const dir = join(root, name);
    await mkdir(dir, { mode: 0o700 });
    const full: MachineSpec = { ...spec, name };
    await writeFileAtomic(join(dir, INSTANCE_FILES.spec), `${JSON.stringify(full, null, 2)}\n`);
    const record: MachineRecord = {
      name,
      vmm: meta.vmm,
      state: "starting",
      kernel: spec.kernel,
      platform: meta.platform,
      architecture: spec.architecture,
      memMiB: spec.memMiB,
      cpus: spec.cpus,
      ports: spec.ports,
      createdAt: new Date().toISOString(),
      autoRemove: meta.autoRemove,
      detached: meta.detached,
    };
    await writeRecord(dir, record);
    return { dir, record, spec: full };
  });
}

async function writeRecord(dir: string, record: MachineRecord): Promise<void> {
  await writeFileAtomic(join(dir, INSTANCE_FILES.state), `${JSON.stringify(record, null, 2)}\n`);
}

/** Read a machine's record as stored (no reconciliation); throws `MACHINE_NOT_FOUND`. */
export async function readRecord(name: string, env: NodeJS.ProcessEnv = process.env): Promise<MachineRecord> {
  try {
    return JSON.parse(
      await readFile(join(instanceDir(name, env), INSTANCE_FILES.state), "utf8"),
    ) as MachineRecord;
  } catch (e) {
    if (errnoCode(e) === "ENOENT" || errnoCode(e) === "ENOTDIR") {
      throw new KilnError("MACHINE_NOT_FOUND", `no machine named "${name}"`, {
        hint: "list machines with: kiln ps -a",
      });
    }
    throw new KilnError(
      "STORE_CORRUPT",
      `cannot read the record of machine "${name}": ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

/** Read-modify-write a machine's record under its lock. */
export async function updateRecord(
  name: string,
  change: (r: MachineRecord) => MachineRecord | Promise<MachineRecord>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<MachineRecord> {
  const dir = instanceDir(name, env);
  return withLock(dir, async () => {
    const next = await change(await readRecord(name, env));
    await writeRecord(dir, next);
    return next;
  });
}

/** Maps a VMM's exit status and console tail to the guest's exit (the driver's `guestExit`). */
export type ExitInterpreter = (
  vmm: string,
  status: { exitCode: number | null; signal: string | null },
  consoleTail: string,
  context?: VmmExitContext,
) => GuestExit | Promise<GuestExit>;

/**
 * Whether `pid` is alive and is this instance's VMM (guards against pid
 * reuse): its command line names the instance directory, or it runs in it
 * (the supervisor starts every VMM there; a Firecracker given `--socket-path`
 * elsewhere has no instance path in its argv).
 */
export async function isInstanceProcess(pid: number, dir: string): Promise<boolean> {
  if (!processAlive(pid)) return false;
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8");
    if (cmdline.includes(dir)) return true;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
    return cwd !== undefined && cwd === (await realpath(dir).catch(() => dir));
  } catch {
    return processAlive(pid);
  }
}

/** The last `lines` lines of a machine's console log ("" if none). */
export async function consoleTail(dir: string, lines = 20): Promise<string> {
  try {
    const text = await readFile(join(dir, INSTANCE_FILES.consoleLog), "utf8");
    // For humans: no carriage returns or terminal control sequences (SeaBIOS clears the screen).
    const plain = text
      .slice(-64 * 1024)
      .replace(/\x1b(\[[0-9;?]*[a-zA-Z]|c)/g, "")
      .replace(/\r/g, "");
    return tail(plain, lines).join("\n");
  } catch {
    return "";
  }
}

/**
 * Bring a record in line with reality: a running (or starting) machine whose
 * VMM process is gone is marked exited, with the reason from its recorded
 * exit status and console log. Writes the change under the lock.
 */
export async function reconcile(
  record: MachineRecord,
  interpret: ExitInterpreter,
  env: NodeJS.ProcessEnv = process.env,
): Promise<MachineRecord> {
  if (record.state === "exited" || record.state === "created") return record;
  const dir = instanceDir(record.name, env);
  if (record.pid !== undefined && (await isInstanceProcess(record.pid, dir))) return record;
  if (record.pid === undefined) {
    // Kiln died between starting the VMM and recording it: the pidfile still tells.
    const pid = Number.parseInt(
      (await readFile(join(dir, INSTANCE_FILES.pidfile), "utf8").catch(() => "")).trim(),
      10,
    );
    if (!Number.isNaN(pid) && (await isInstanceProcess(pid, dir))) {
      return updateRecord(
        record.name,
        (r) => ({ ...r, state: "running", pid, startedAt: r.startedAt ?? new Date().toISOString() }),
        env,
      );
    }
    if (Date.now() - Date.parse(record.createdAt) < 30_000) return record;
  }
  return updateRecord(
    record.name,
    async (r) => {
      if (r.state === "exited") return r;
      // The supervisor writes exit-status just after the VMM ends: allow it a moment.
      let status = await readExitStatus(dir);
      for (let i = 0; status === undefined && i < 25; i++) {
        await new Promise((res) => setTimeout(res, 20));
        status = await readExitStatus(dir);
      }
      const exit =
        status === undefined
          ? {
              exitCode: 1,
              reason: r.pid === undefined ? "never started" : "VMM process ended (exit status unknown)",
            }
          : await interpret(r.vmm, { exitCode: status, signal: null }, await consoleTail(dir, 40), {
              logTail: await readVmmLogTail(dir),
              argv: r.argv,
              events: await readVmmEvents(dir),
            });
      // The supervisor ended it because the foreground client was gone or --timeout passed.
      const endedBy = await readEndedBy(dir);
      const own =
        endedBy === "client-gone"
          ? { exitCode: 137, reason: "stopped: its kiln run was killed" }
          : endedBy === "timeout"
            ? { exitCode: 1, reason: "--timeout reached (stopped by its supervisor)" }
            : undefined;
      return {
        ...r,
        state: "exited",
        exitCode: own?.exitCode ?? exit.exitCode,
        reason: own?.reason ?? exit.reason,
        exitedAt: new Date().toISOString(),
        ...(own ? { endedBySupervisor: true } : {}),
      };
    },
    env,
  );
}

/**
 * {@link listMachines} with the VMM drivers loaded only when a record needs
 * its exit interpreted: `kiln ps` then starts without the drivers' modules
 * (QEMU, Firecracker, their HTTP/QMP clients), ~10 ms of start-up.
 */
export function listMachinesLazily(env: NodeJS.ProcessEnv = process.env): Promise<MachineRecord[]> {
  return listMachines(async (...args) => (await import("./drivers.js")).interpretExit(...args), env);
}

/** All machine records, reconciled, sorted by creation time. */
export async function listMachines(
  interpret: ExitInterpreter,
  env: NodeJS.ProcessEnv = process.env,
): Promise<MachineRecord[]> {
  let names: string[];
  try {
    names = await readdir(machinesDir(env));
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return [];
    throw e;
  }
  const out: MachineRecord[] = [];
  for (const name of names) {
    if (name.startsWith(".") || name === INSTANCE_FILES.lock) continue;
    try {
      const r = await reconcile(await readRecord(name, env), interpret, env);
      // A detached `--rm` machine has no Kiln process waiting for it: remove it once seen exited.
      // So is a foreground `--rm` machine whose client died (its supervisor ended it).
      if (r.state === "exited" && r.autoRemove && (r.detached || r.endedBySupervisor)) {
        await removeInstance(name, env);
        continue;
      }
      out.push(r);
    } catch (e) {
      // A directory being created or removed right now: skip it.
      if (e instanceof KilnError && (e.code === "MACHINE_NOT_FOUND" || e.code === "STORE_LOCKED")) continue;
      throw e;
    }
  }
  return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/**
 * Remove a machine's directory (the caller has made sure it is not running).
 * All or nothing, and idempotent: under the store lock and then the record's
 * own (so no writer is half-way through), the directory is renamed to a
 * hidden name in one step, then deleted. A record is therefore either whole
 * or absent, never an empty directory or a lone `state.json` (issue 9:
 * concurrent `stop`/`rm`/`rm -f` left both, and failed with ENOTEMPTY).
 */
export async function removeInstance(name: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const root = machinesDir(env);
  const dir = join(root, name);
  const trash = join(root, `.removing-${name}-${randomBytes(4).toString("hex")}`);
  const moved = await withLock(root, async () => {
    try {
      return await withLock(dir, async () => {
        await rename(dir, trash);
        return true;
      });
    } catch (e) {
      if (e instanceof KilnError && e.code === "MACHINE_NOT_FOUND") return false;
      throw e;
    }
  });
  // Retried: a supervisor whose VMM just died may still write its exit status (and the console's
  // line-time stamper its last line) into the directory it runs in, which the rename moved here.
  if (moved) await rm(trash, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
}
