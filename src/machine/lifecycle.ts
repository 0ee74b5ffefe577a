/**
 * docker's machine verbs over Kiln's store: start an exited machine again
 * (same instance directory, spec and files; the console log continues, as
 * `docker start` keeps a container's logs), send a signal to a VMM
 * (`docker kill`), wait for machines to exit (`docker wait`), remove every
 * exited machine (`docker container prune`).
 */
import { readFile, rm } from "node:fs/promises";
import { constants } from "node:os";
import { join } from "node:path";
import { KilnError } from "../core/errors.js";
import { type Reporter, silentReporter } from "../core/output.js";
import type { MachineSpec } from "./driver.js";
import { getDriver } from "./drivers.js";
import { getMachine, machines, removeMachine, startRecorded } from "./launch.js";
import { checkPorts } from "./ports.js";
import { instanceDir, isInstanceProcess, type MachineRecord, updateRecord } from "./store.js";
import { INSTANCE_FILES } from "./supervise.js";

/**
 * Start an exited machine again, detached, from its recorded spec. Throws
 * `MACHINE_RUNNING` when it runs; files the spec names must still exist.
 */
export async function startMachine(
  name: string,
  opts: { env?: NodeJS.ProcessEnv; reporter?: Reporter } = {},
): Promise<MachineRecord> {
  const env = opts.env ?? process.env;
  const record = await getMachine(name, env);
  if (record.state !== "exited" && record.state !== "created") {
    throw new KilnError("MACHINE_RUNNING", `machine "${name}" is already ${record.state}`, {
      hint: `restart it with: kiln restart ${name}`,
    });
  }
  const dir = instanceDir(name, env);
  const spec = JSON.parse(await readFile(join(dir, INSTANCE_FILES.spec), "utf8")) as MachineSpec;
  const driver = getDriver(record.vmm);
  await driver.available(spec);
  await checkPorts(spec.ports, () => machines(env));
  // The last run's status and control files would be read as this run's.
  for (const f of [INSTANCE_FILES.exitStatus, INSTANCE_FILES.pidfile, INSTANCE_FILES.qmpSocket]) {
    await rm(join(dir, f), { force: true });
  }
  await updateRecord(
    name,
    ({ exitCode: _c, reason: _r, exitedAt: _e, pid: _p, ...r }) => ({
      ...r,
      state: "starting",
      detached: true,
    }),
    env,
  );
  return (await startRecorded(driver, spec, dir, { reporter: opts.reporter ?? silentReporter, env })).record;
}

/** A signal name or number as `kill -s` takes it (`KILL`, `SIGTERM`, `9`) → its name. Throws `USAGE`. */
export function parseSignal(text: string): NodeJS.Signals {
  const t = text.trim().toUpperCase();
  const names = constants.signals as Record<string, number>;
  if (/^\d+$/.test(t)) {
    const found = Object.entries(names).find(([, n]) => n === Number(t));
    if (found) return found[0] as NodeJS.Signals;
  } else {
    const name = t.startsWith("SIG") ? t : `SIG${t}`;
    if (name in names) return name as NodeJS.Signals;
  }
  throw new KilnError("USAGE", `"${text}" is not a signal name or number`, {
    hint: "for example: -s KILL, -s TERM, -s 9",
  });
}

/** Send `signal` to a running machine's VMM (default SIGKILL, as `docker kill`). Throws `MACHINE_NOT_RUNNING`. */
export async function killMachine(
  name: string,
  signal: NodeJS.Signals = "SIGKILL",
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const record = await getMachine(name, env);
  const dir = instanceDir(name, env);
  if (record.state === "exited" || record.pid === undefined || !(await isInstanceProcess(record.pid, dir))) {
    throw new KilnError("MACHINE_NOT_RUNNING", `machine "${name}" is not running (${record.state})`, {
      hint: `start it with: kiln start ${name}`,
    });
  }
  process.kill(record.pid, signal);
}

/** Wait until a machine has exited; resolves to its final record. */
export async function waitMachine(
  name: string,
  opts: { env?: NodeJS.ProcessEnv; signal?: AbortSignal; pollMs?: number } = {},
): Promise<MachineRecord> {
  const env = opts.env ?? process.env;
  for (;;) {
    const r = await getMachine(name, env);
    if (r.state === "exited") return r;
    if (opts.signal?.aborted) throw new KilnError("INTERRUPTED", "interrupted while waiting");
    await new Promise((res) => setTimeout(res, opts.pollMs ?? 100));
  }
}

/** Remove every exited (or never started: `created`) machine, as docker's prune; resolves to the names removed. */
export async function pruneMachines(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const removed: string[] = [];
  for (const m of await machines(env)) {
    if (m.state !== "exited" && m.state !== "created") continue;
    await removeMachine(m.name, { env });
    removed.push(m.name);
  }
  return removed;
}
