/** `kiln ps [-a] [--json]`: list machines (running ones; all with `-a`). */
import { formatDuration } from "../../core/units.js";
import { findOrphans } from "../../machine/orphans.js";
import { listMachinesLazily, type MachineRecord } from "../../machine/store.js";
import { bool, type CommandDef } from "../command.js";

function uptime(r: MachineRecord, now: number): string {
  if (r.state !== "running" || !r.startedAt) return "-";
  return formatDuration(now - Date.parse(r.startedAt));
}

function status(r: MachineRecord): string {
  return r.state === "exited" ? `exited (${r.exitCode ?? "?"}): ${r.reason ?? ""}` : r.state;
}

const command: CommandDef = {
  name: ["ps"],
  summary: "list machines",
  usage: "ps [-a] [--json]",
  maxPositionals: 0,
  options: {
    all: { type: "boolean", short: "a", description: "include exited machines" },
    json: { type: "boolean", description: "print JSON (one array of machine records)" },
  },
  async run(ctx) {
    const all = await listMachinesLazily(ctx.env);
    const shown = bool(ctx, "all") ? all : all.filter((m) => m.state !== "exited");
    // VMMs of this store whose record was removed by hand: shown with -a, ended by rm -f.
    const orphans = bool(ctx, "all") ? await findOrphans(ctx.env) : [];
    if (bool(ctx, "json")) {
      ctx.out(`${JSON.stringify([...shown, ...orphans], null, 2)}\n`);
      return 0;
    }
    const now = Date.now();
    const rows = [
      ["NAME", "KERNEL", "STATE", "UPTIME", "MEMORY", "PORTS", "PLATFORM"],
      ...shown.map((m) => [
        m.name,
        m.kernel.split("/").pop() ?? m.kernel,
        status(m),
        uptime(m, now),
        `${m.memMiB} MiB`,
        m.ports.map((p) => `${p.hostIp}:${p.hostPort}->${p.guestPort}/${p.protocol}`).join(",") || "-",
        `${m.platform}/${m.architecture}${m.accel ? ` (${m.accel})` : ""}`,
      ]),
      ...orphans.map((o) => [
        o.name,
        o.kernel.split("/").pop() || "-",
        `orphaned (pid ${o.pid}, no record; kiln rm -f ${o.name} ends it)`,
        "-",
        "-",
        "-",
        "qemu",
      ]),
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows)
      ctx.out(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")}\n`);
    return 0;
  },
};

export default command;
