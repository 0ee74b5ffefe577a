/**
 * Orphans: VMMs Kiln started whose record is gone (the machine's directory,
 * or just its `state.json`, removed by hand). Such a QEMU would run on,
 * invisible to `ps` and refused by `stop`/`rm` (issue 9). Kiln's VMMs carry
 * the store path in their argv (`-pidfile <store>/machines/NAME/vmm.pid`), so
 * they are found in /proc by that path; `ps -a` lists them and `rm -f NAME`
 * ends them.
 */
import { existsSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { instanceDir, machinesDir } from "./store.js";
import { INSTANCE_FILES, processAlive } from "./supervise.js";

/** A running VMM of this store without a record. */
export interface Orphan {
  name: string;
  pid: number;
  state: "orphaned";
  /** The kernel from its argv, when it has `-kernel`. */
  kernel: string;
}

/** Orphans of the store `env` points at (Linux /proc; none elsewhere). */
export async function findOrphans(env: NodeJS.ProcessEnv = process.env): Promise<Orphan[]> {
  const root = machinesDir(env);
  const entries = await readdir("/proc").catch(() => [] as string[]);
  const out: Orphan[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = await readFile(`/proc/${entry}/cmdline`, "utf8")
      .then((t) => t.split("\0"))
      .catch(() => undefined);
    // The VMM itself, not its `sh` supervisor (which carries the same argv after its script).
    if (!argv || !/(^|\/)qemu-system-[\w-]+$/.test(argv[0] ?? "")) continue;
    const pidfile = argv[argv.indexOf("-pidfile") + 1];
    if (argv.indexOf("-pidfile") === -1 || pidfile === undefined) continue;
    if (basename(pidfile) !== INSTANCE_FILES.pidfile || dirname(dirname(pidfile)) !== root) continue;
    const name = basename(dirname(pidfile));
    if (existsSync(join(instanceDir(name, env), INSTANCE_FILES.state))) continue;
    const k = argv.indexOf("-kernel");
    out.push({ name, pid: Number(entry), state: "orphaned", kernel: k === -1 ? "" : (argv[k + 1] ?? "") });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * End the orphan named `name` (SIGTERM, then SIGKILL after `timeoutMs`) and
 * delete what is left of its directory. False when there is no such orphan.
 */
export async function endOrphan(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 3000,
): Promise<boolean> {
  const orphan = (await findOrphans(env)).find((o) => o.name === name);
  if (!orphan) return false;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(orphan.pid, s);
    } catch {
      // already gone
    }
  };
  signal("SIGTERM");
  const end = Date.now() + timeoutMs;
  while (processAlive(orphan.pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  if (processAlive(orphan.pid)) signal("SIGKILL");
  while (processAlive(orphan.pid)) await new Promise((r) => setTimeout(r, 20));
  await rm(instanceDir(name, env), { recursive: true, force: true });
  return true;
}
