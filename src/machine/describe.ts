/**
 * `kiln inspect NAME` for machines: the reconciled record, the spec it was
 * started with, the VMM command line, and where its files are.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { isKilnError } from "../core/errors.js";
import { formatArgv } from "../core/exec.js";
import type { MachineSpec } from "./driver.js";
import { vsockSocketFor } from "./firecracker/driver.js";
import { getMachine } from "./launch.js";
import { instanceDir, type MachineRecord } from "./store.js";
import { INSTANCE_FILES } from "./supervise.js";

export interface MachineDetails {
  record: MachineRecord;
  spec: MachineSpec;
  /** The instance directory (console log, sockets, pidfile). */
  dir: string;
}

/** Details of machine `name`, or undefined when there is no such machine. */
export async function inspectMachine(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<MachineDetails | undefined> {
  let record: MachineRecord;
  try {
    record = await getMachine(name, env);
  } catch (e) {
    if (isKilnError(e, "MACHINE_NOT_FOUND") || isKilnError(e, "INVALID_NAME")) return undefined;
    throw e;
  }
  const dir = instanceDir(name, env);
  const spec = JSON.parse(await readFile(join(dir, INSTANCE_FILES.spec), "utf8")) as MachineSpec;
  return { record, spec, dir };
}

/** Human-readable machine details. */
export function formatMachine(d: MachineDetails): string {
  const r = d.record;
  const rows: [string, string][] = [
    ["name", r.name],
    ["state", r.state === "exited" ? `exited (${r.exitCode}): ${r.reason ?? ""}` : r.state],
    ["vmm", `${r.vmm}${r.accel ? ` (${r.accel})` : ""}${r.pid ? `, pid ${r.pid}` : ""}`],
    ["kernel", `${d.spec.kernel} (${d.spec.kernelKind}, ${d.spec.guest}, ${d.spec.architecture})`],
    ["initrd", d.spec.initrd ?? "-"],
    ["rootfs", d.spec.rootfs ?? "-"],
    ["drives", (d.spec.drives ?? []).map((x) => `${x.path}${x.readOnly ? ":ro" : ""}`).join(", ") || "-"],
    ["memory", `${d.spec.memMiB} MiB, ${d.spec.cpus} CPU${d.spec.cpus > 1 ? "s" : ""}`],
    ["network", d.spec.network],
    [
      "ports",
      d.spec.ports.map((p) => `${p.hostIp}:${p.hostPort}->${p.guestPort}/${p.protocol}`).join(", ") || "-",
    ],
    [
      "vsock",
      d.spec.vsock
        ? `CID ${d.spec.vsock.guestCid}${r.vmm === "firecracker" ? ` (host side: ${d.spec.vsock.hostPath ?? vsockSocketFor(d.dir)})` : " (vhost-vsock)"}`
        : "-",
    ],
    [
      "volumes",
      d.spec.volumes
        .map((v) => `${v.hostPath}:${v.guestPath}${v.readonly ? ":ro" : ""} (9p ${v.tag})`)
        .join(", ") || "-",
    ],
    ["created", r.createdAt],
    ["started", r.startedAt ?? "-"],
    ["exited", r.exitedAt ?? "-"],
    ["console log", join(d.dir, INSTANCE_FILES.consoleLog)],
    ["command", r.argv ? formatArgv(r.argv) : "-"],
  ];
  const w = Math.max(...rows.map(([k]) => k.length)) + 2;
  return rows.map(([k, v]) => `${`${k}:`.padEnd(w)}${v}`).join("\n");
}
