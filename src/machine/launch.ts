/**
 * Starting, watching and stopping machines: the library behind `kiln run`,
 * `kiln stop` and `kiln rm`, independent of the terminal.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { isKilnError, KilnError } from "../core/errors.js";
import { writeFileAtomic } from "../core/fs.js";
import { type Reporter, silentReporter } from "../core/output.js";
import type { MachineSpec, StartedMachine, StartOptions, VmmDriver } from "./driver.js";
import { getDriver, interpretExit } from "./drivers.js";
import { endOrphan } from "./orphans.js";
import { checkPorts } from "./ports.js";
import {
  consoleTail,
  createInstance,
  instanceDir,
  isInstanceProcess,
  listMachines,
  type MachineRecord,
  readRecord,
  reconcile,
  removeInstance,
  updateRecord,
} from "./store.js";
import { INSTANCE_FILES, type SupervisorWatch } from "./supervise.js";
import type { ConsolePattern } from "./wait-pattern.js";

export interface LaunchOptions {
  /** Machine name; generated when absent. */
  name?: string;
  driver: VmmDriver;
  /** Platform shown by `kiln ps` (`qemu`, `firecracker`). */
  platform?: string;
  autoRemove?: boolean;
  detached?: boolean;
  reporter?: Reporter;
  env?: NodeJS.ProcessEnv;
  /**
   * Prepare files inside the new instance directory before the VMM starts
   * (e.g. pack `--initrd DIR` there); returns changes to the spec.
   */
  prepare?: (dir: string, spec: MachineSpec) => Promise<Partial<MachineSpec>>;
  /** Foreground runs: the supervisor ends the VMM when this client is gone or the deadline passes. */
  watch?: SupervisorWatch;
}

export interface Launched {
  dir: string;
  spec: MachineSpec;
  record: MachineRecord;
  started: StartedMachine;
}

/** Reconciled list of machines (for `kiln ps`). */
export function machines(env: NodeJS.ProcessEnv = process.env): Promise<MachineRecord[]> {
  return listMachines(interpretExit, env);
}

/** A machine's reconciled record; throws `MACHINE_NOT_FOUND`. */
export async function getMachine(name: string, env: NodeJS.ProcessEnv = process.env): Promise<MachineRecord> {
  return reconcile(await readRecord(name, env), interpretExit, env);
}

/**
 * Create the instance without starting it (`kiln run --no-start`, kraft's
 * flag; docker's `create`): prepared files and all, recorded as `created`
 * until `kiln start NAME` (lifecycle.ts) boots it. Ports are checked then.
 */
export async function createMachine(
  base: Omit<MachineSpec, "name">,
  opts: Omit<LaunchOptions, "watch">,
): Promise<Omit<Launched, "started">> {
  const env = opts.env ?? process.env;
  await opts.driver.available({ ...base, name: opts.name ?? "unnamed" });
  const { dir, spec } = await createPrepared(base, opts, env);
  const record = await updateRecord(spec.name, (r) => ({ ...r, state: "created" }), env);
  return { dir, spec, record };
}

/** Allocate the instance and run `opts.prepare`; a failed preparation leaves the record exited (and `--rm` removes it). */
async function createPrepared(
  base: Omit<MachineSpec, "name">,
  opts: Omit<LaunchOptions, "watch">,
  env: NodeJS.ProcessEnv,
): Promise<{ dir: string; spec: MachineSpec }> {
  const driver = opts.driver;
  const created = await createInstance(
    base,
    {
      name: opts.name,
      vmm: driver.name,
      platform: opts.platform ?? driver.name,
      autoRemove: opts.autoRemove ?? false,
      detached: opts.detached ?? false,
    },
    env,
  );
  let spec = created.spec;
  try {
    if (opts.prepare) {
      spec = { ...spec, ...(await opts.prepare(created.dir, spec)) };
      // What was prepared (the CPIO packed from `--initrd DIR`) is what `kiln inspect` shows.
      await writeFileAtomic(join(created.dir, INSTANCE_FILES.spec), `${JSON.stringify(spec, null, 2)}\n`);
    }
  } catch (e) {
    await recordFailedStart(spec.name, e, opts.autoRemove ?? false, env);
    throw e;
  }
  return { dir: created.dir, spec };
}

async function recordFailedStart(name: string, e: unknown, autoRemove: boolean, env: NodeJS.ProcessEnv) {
  const reason = e instanceof KilnError ? e.message : String(e);
  await updateRecord(
    name,
    (r) => ({
      ...r,
      state: "exited",
      exitCode: 1,
      reason: `failed to start: ${reason}`,
      exitedAt: new Date().toISOString(),
    }),
    env,
  ).catch(() => {});
  if (autoRemove) await removeInstance(name, env).catch(() => {});
}

/** Create the instance, start the VMM and record it as running. */
export async function launchMachine(base: Omit<MachineSpec, "name">, opts: LaunchOptions): Promise<Launched> {
  const env = opts.env ?? process.env;
  const driver = opts.driver;
  await driver.available({ ...base, name: opts.name ?? "unnamed" });
  await checkPorts(base.ports, () => machines(env));
  const { dir, spec } = await createPrepared(base, opts, env);
  const { record, started } = await startRecorded(driver, spec, dir, {
    reporter: opts.reporter ?? silentReporter,
    env,
    ...(opts.watch ? { watch: opts.watch } : {}),
    autoRemove: opts.autoRemove ?? false,
  });
  return { dir, spec, record, started };
}

/**
 * Start an instance's VMM and record it as running (`kiln run`, and `kiln
 * start`/`restart` of an existing machine); a failed start is recorded as
 * exited with its reason (and removed under `--rm`) before the error goes on.
 */
export async function startRecorded(
  driver: VmmDriver,
  spec: MachineSpec,
  dir: string,
  opts: StartOptions & { env: NodeJS.ProcessEnv; autoRemove?: boolean },
): Promise<{ record: MachineRecord; started: StartedMachine }> {
  const { autoRemove = false, ...startOpts } = opts;
  try {
    const started = await driver.start(spec, dir, startOpts);
    const record = await updateRecord(
      spec.name,
      (r) => ({
        ...r,
        state: "running",
        pid: started.pid,
        accel: started.accel,
        argv: started.argv,
        startedAt: new Date().toISOString(),
      }),
      opts.env,
    );
    return { record, started };
  } catch (e) {
    await recordFailedStart(spec.name, e, autoRemove, opts.env);
    throw e;
  }
}

/** Stop a machine: the driver's graceful path, then force; records the reason. */
export async function stopMachine(
  name: string,
  opts: {
    timeoutMs: number;
    env?: NodeJS.ProcessEnv;
    reason?: string;
    /** The status `ps` shows (default 0): a foreground run records the status Kiln exits with. */
    exitCode?: number;
  },
): Promise<MachineRecord> {
  const env = opts.env ?? process.env;
  const record = await getMachine(name, env);
  if (record.state === "exited" || record.state === "created") return record;
  const dir = instanceDir(name, env);
  if (record.pid !== undefined && (await isInstanceProcess(record.pid, dir))) {
    await getDriver(record.vmm).stop(dir, record.pid, { timeoutMs: opts.timeoutMs });
  }
  // A concurrent `kiln rm -f` may have stopped and removed it meanwhile: then it is stopped.
  const after = await getMachine(name, env).catch((e) => {
    if (isKilnError(e, "MACHINE_NOT_FOUND")) return undefined;
    throw e;
  });
  if (after === undefined) return { ...record, state: "exited", reason: "removed" };
  if (after.state !== "exited") {
    throw new KilnError("STOP_FAILED", `machine "${name}" is still running after kiln stop`, {
      hint: `its VMM process is ${record.pid}; kill it and run: kiln rm -f ${name}`,
    });
  }
  // Record that Kiln ended it (the VMM's own status would say "powered off" or "killed"). Like
  // `docker stop`, a requested stop is status 0; a run that Ctrl-C or --timeout ended records
  // the status Kiln exits with (130, 143, 1), so `ps` and the shell agree.
  return updateRecord(
    name,
    (r) => ({ ...r, exitCode: opts.exitCode ?? 0, reason: opts.reason ?? "stopped by kiln stop" }),
    env,
  ).catch((e) => {
    if (isKilnError(e, "MACHINE_NOT_FOUND")) return { ...after, reason: "removed" };
    throw e;
  });
}

/** Remove a machine; a running one only with `force` (stopped first, without waiting for the guest). */
export async function removeMachine(
  name: string,
  opts: { force?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<void> {
  const env = opts.env ?? process.env;
  const record = await getMachine(name, env).catch(async (e) => {
    // A VMM whose record was removed by hand (an orphan): `rm -f` ends it.
    if (opts.force && isKilnError(e, "MACHINE_NOT_FOUND") && (await endOrphan(name, env))) return undefined;
    throw e;
  });
  if (record === undefined) return;
  if (record.state !== "exited" && record.state !== "created") {
    if (!opts.force) {
      throw new KilnError("MACHINE_RUNNING", `machine "${name}" is ${record.state}`, {
        hint: `stop it first (kiln stop ${name}) or force: kiln rm -f ${name}`,
      });
    }
    await stopMachine(name, { timeoutMs: 0, env });
  }
  // Idempotent: a concurrent `rm` that got there first leaves nothing to do (removeInstance).
  await removeInstance(name, env);
}

/** How a watched run ended. */
export type WatchOutcome =
  /** `unmatched`: a `waitFor` was given and the console never matched it (`lastLines` says what it printed). */
  | { kind: "exited"; record: MachineRecord; unmatched?: boolean; lastLines?: string }
  | { kind: "matched"; match: string }
  | { kind: "timeout"; lastLines: string };

/** How long an unfinished last line must stay unchanged before a `--wait-for` match in it counts. */
export const WAIT_FOR_SETTLE_MS = 100;

/**
 * Wait for a running machine to exit, for its console to match `waitFor`, or
 * for `timeoutMs`, whichever comes first. `consoleText()` returns what the
 * console printed so far (the caller follows the log).
 */
export async function watchMachine(
  name: string,
  opts: {
    env?: NodeJS.ProcessEnv;
    waitFor?: ConsolePattern;
    timeoutMs?: number;
    consoleText: () => string;
    signal?: AbortSignal;
  },
): Promise<WatchOutcome> {
  const env = opts.env ?? process.env;
  const started = Date.now();
  const dir = instanceDir(name, env);
  const record = await readRecord(name, env);
  // A match inside the last, unfinished line counts once the console has been quiet for
  // WAIT_FOR_SETTLE_MS: the log is read as the UART writes it, so `KILN-42 .*` could match
  // half a line, and a prompt (`sqlite> `) never gets its newline.
  let seen: string | undefined;
  let changedAt = Date.now();
  let m: { index: number; 0: string } | null = null;
  for (;;) {
    if (opts.waitFor) {
      const text = opts.consoleText();
      if (text !== seen) {
        seen = text;
        changedAt = Date.now();
        // Only new text can change the answer: matching once per change, not once per tick.
        m = opts.waitFor.exec(text);
      }
      if (m) {
        const lineDone = text.indexOf("\n", m.index + m[0].length) !== -1;
        const settled = Date.now() - changedAt >= WAIT_FOR_SETTLE_MS;
        if (lineDone || settled || record.pid === undefined || !(await isInstanceProcess(record.pid, dir)))
          return { kind: "matched", match: m[0] };
      }
    }
    if (record.pid === undefined || !(await isInstanceProcess(record.pid, dir)) || opts.signal?.aborted) {
      if (opts.signal?.aborted && record.pid !== undefined && (await isInstanceProcess(record.pid, dir))) {
        throw new KilnError("INTERRUPTED", "interrupted");
      }
      if (opts.waitFor) {
        // The follower may not have read the last bytes yet: decide on the whole log, as `expect`
        // decides on everything before end of file.
        const log = await readFile(join(dir, INSTANCE_FILES.consoleLog), "utf8").catch(() => seen ?? "");
        const last = opts.waitFor.exec(log.slice(-256 * 1024));
        if (last) return { kind: "matched", match: last[0] };
        return {
          kind: "exited",
          record: await getMachine(name, env),
          unmatched: true,
          lastLines: await consoleTail(dir, 15),
        };
      }
      return { kind: "exited", record: await getMachine(name, env) };
    }
    if (opts.timeoutMs !== undefined && Date.now() - started > opts.timeoutMs) {
      return { kind: "timeout", lastLines: await consoleTail(dir, 15) };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The whole console log of a machine. */
export async function readConsoleLog(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  await readRecord(name, env);
  return readFile(join(instanceDir(name, env), INSTANCE_FILES.consoleLog), "utf8").catch(() => "");
}
