/**
 * `kiln ps [-a] [-q] [--filter K=V]… [--format TPL] [--json]`: list machines
 * (running ones; all with `-a` or a status filter), as docker's `ps`.
 */
import { usageError } from "../../core/errors.js";
import { formatDuration } from "../../core/units.js";
import { findOrphans } from "../../machine/orphans.js";
import { listMachinesLazily, type MachineRecord } from "../../machine/store.js";
import { bool, type CommandDef, list, str } from "../command.js";
import { renderTemplate } from "../go-template.js";

function uptime(r: MachineRecord, now: number): string {
  if (r.state !== "running" || !r.startedAt) return "-";
  return formatDuration(now - Date.parse(r.startedAt));
}

function status(r: MachineRecord): string {
  return r.state === "exited" ? `exited (${r.exitCode ?? "?"}): ${r.reason ?? ""}` : r.state;
}

function ports(m: MachineRecord): string {
  return m.ports.map((p) => `${p.hostIp}:${p.hostPort}->${p.guestPort}/${p.protocol}`).join(",");
}

/**
 * `--filter` as docker reads it: `status=` (created, starting, running, exited) and
 * `name=` (a substring); one key given twice matches either value, different
 * keys must all match. Returns the predicate and whether a status was named.
 */
export function parseFilters(filters: readonly string[]): {
  match: (m: MachineRecord) => boolean;
  byStatus: boolean;
} {
  const by = new Map<string, string[]>();
  for (const f of filters) {
    const m = /^(status|name)=(.+)$/.exec(f);
    if (!m)
      throw usageError(
        `--filter "${f}" is not status=STATE or name=NAME`,
        "e.g. --filter status=exited --filter name=web",
      );
    if (m[1] === "status" && !["running", "exited", "starting", "created"].includes(m[2]!)) {
      throw usageError(`--filter status=${m[2]}: a machine is created, starting, running or exited`);
    }
    by.set(m[1]!, [...(by.get(m[1]!) ?? []), m[2]!]);
  }
  const statuses = by.get("status");
  const names = by.get("name");
  return {
    match: (m) =>
      (!statuses || statuses.includes(m.state)) && (!names || names.some((n) => m.name.includes(n))),
    byStatus: statuses !== undefined,
  };
}

/** The fields a `--format` template sees: the record, plus docker's names for what `ps` shows. */
function templateRow(m: MachineRecord, now: number): Record<string, unknown> {
  return {
    ...m,
    Name: m.name,
    Names: m.name,
    ID: m.name,
    Kernel: m.kernel,
    Image: m.kernel,
    State: m.state,
    Status: status(m),
    RunningFor: uptime(m, now),
    Memory: `${m.memMiB} MiB`,
    Ports: ports(m),
    Platform: `${m.platform}/${m.architecture}`,
    ExitCode: m.exitCode ?? "",
  };
}

const command: CommandDef = {
  name: ["ps"],
  summary: "list machines",
  usage: "ps [-a] [-q] [--filter K=V]... [--format TEMPLATE] [--json]",
  maxPositionals: 0,
  options: {
    all: { type: "boolean", short: "a", description: "include exited and created (never started) machines" },
    quiet: { type: "boolean", short: "q", description: "print only machine names" },
    filter: {
      type: "string",
      multiple: true,
      valueName: "K=V",
      description: "status=running|exited|starting, name=SUBSTRING (docker's semantics)",
    },
    format: {
      type: "string",
      valueName: "TEMPLATE",
      description: "docker's Go-template subset: {{.Name}}, {{json .}}, 'table {{.Name}}\\t{{.Status}}'",
    },
    json: { type: "boolean", description: "print JSON (one array of machine records)" },
  },
  details: [
    "Template fields: the record's own (name, state, kernel, memMiB, ports, …) and docker's names",
    "for the columns: .Name (.Names, .ID), .Kernel (.Image), .State, .Status, .RunningFor, .Memory,",
    ".Ports, .Platform, .ExitCode.",
    "",
    "examples:",
    "  kiln ps -aq --filter status=exited",
    "  kiln ps --format '{{.Name}} {{.Status}}'",
    "  kiln ps -a --format 'table {{.Name}}\\t{{.State}}\\t{{.Ports}}'",
  ].join("\n"),
  async run(ctx) {
    const filter = parseFilters(list(ctx, "filter"));
    const all = await listMachinesLazily(ctx.env);
    const shown = all.filter(
      (m) =>
        (bool(ctx, "all") || filter.byStatus || m.state === "running" || m.state === "starting") &&
        filter.match(m),
    );
    // VMMs of this store whose record was removed by hand: shown with -a (and no filter), ended by rm -f.
    const orphans = bool(ctx, "all") && list(ctx, "filter").length === 0 ? await findOrphans(ctx.env) : [];
    const format = str(ctx, "format");
    if (bool(ctx, "json")) {
      if (format !== undefined || bool(ctx, "quiet"))
        throw usageError("--json prints whole records; leave out --format and -q");
      ctx.out(`${JSON.stringify([...shown, ...orphans], null, 2)}\n`);
      return 0;
    }
    if (bool(ctx, "quiet")) {
      ctx.out([...shown, ...orphans].map((m) => `${m.name}\n`).join(""));
      return 0;
    }
    const now = Date.now();
    if (format !== undefined) {
      ctx.out(
        renderTemplate(
          format,
          shown.map((m) => templateRow(m, now)),
        ),
      );
      return 0;
    }
    const rows = [
      ["NAME", "KERNEL", "STATE", "UPTIME", "MEMORY", "PORTS", "PLATFORM"],
      ...shown.map((m) => [
        m.name,
        m.kernel.split("/").pop() ?? m.kernel,
        status(m),
        uptime(m, now),
        `${m.memMiB} MiB`,
        ports(m) || "-",
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
