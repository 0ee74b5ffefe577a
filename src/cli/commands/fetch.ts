/**
 * `kiln fetch [DIR] [-K FILE] [--offline] [--with-mirror M]... [--update] [--json]`:
 * put a project's Unikraft core, libraries and build-time archives in place
 * (`.unikraft/`, the cache) and write `kiln.lock`, without building.
 */
import { relative, resolve } from "node:path";
import { useColor } from "../../core/output.js";
import { formatDiagnostic } from "../../kraftfile/diagnostics.js";
import { type FetchedComponent, fetchProjectSources } from "../../unikraft/sources/fetch.js";
import { bool, type CommandDef, list } from "../command.js";
import { kraftfileOption, loadProjectFromArgs } from "../project-options.js";

function describe(c: FetchedComponent, dir: string): string[] {
  const src = c.source;
  const version =
    src.type === "git"
      ? `${c.resolvedRef ?? src.version}${c.commit ? ` (${c.commit.slice(0, 12)})` : ""}`
      : src.type === "tarball"
        ? `tarball sha256:${c.sha256?.slice(0, 12)}`
        : "directory, in place";
  const where = relative(dir, c.dir) || ".";
  return [c.name, version, where.startsWith("..") ? c.dir : where];
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

const command: CommandDef = {
  name: ["fetch"],
  summary: "fetch a project's Unikraft sources into .unikraft/ and write kiln.lock",
  usage: "fetch [DIR] [-K FILE] [--offline] [--with-mirror M]... [--update] [--json]",
  maxPositionals: 1,
  jsonFailure: true,
  options: {
    kraftfile: kraftfileOption(),
    offline: { type: "boolean", description: "use only the cache and mirrors; never contact an upstream" },
    "with-mirror": {
      type: "string",
      multiple: true,
      valueName: "M",
      description: "a mirror directory or base URL, tried before KILN_MIRRORS, config.yaml and upstream",
    },
    update: { type: "boolean", description: "ignore kiln.lock: resolve versions afresh and rewrite it" },
    json: { type: "boolean", description: "print what was fetched as JSON" },
  },
  details: [
    "DIR defaults to the current directory. Git sources are cached under $XDG_CACHE_HOME/kiln/sources",
    "and checked out into .unikraft/unikraft and .unikraft/libs/<name>; local directories are used in",
    "place. `stable` is the core's newest RELEASE-x.y.z tag; a library's `stable` is its tag for the",
    "core's release, or its newest one not newer. kiln.lock (next to the Kraftfile) pins the commits;",
    "it is used whenever present, unless --update.",
    "",
    "Mirrors: --with-mirror (repeatable), then KILN_MIRRORS (comma-separated), then `mirrors:` in",
    "$XDG_CONFIG_HOME/kiln/config.yaml. A mirror directory holds bare repositories named like the",
    "upstream (unikraft.git, lib-musl.git) and archives (musl-1.2.3.tar.gz, or under archives/).",
    "",
    "examples:",
    "  kiln fetch",
    "  kiln fetch --offline --with-mirror /srv/unikraft-mirror",
    "  kiln fetch --update --json | jq -r '.core.commit'",
  ].join("\n"),
  async run(ctx) {
    const color = useColor(process.stderr, ctx.env);
    const { project, diagnostics } = await loadProjectFromArgs(ctx, { color });
    for (const d of diagnostics) ctx.reporter.info(formatDiagnostic(d, { color }));
    const fetched = await fetchProjectSources(project, {
      offline: bool(ctx, "offline"),
      mirrors: list(ctx, "with-mirror").map((m) =>
        /^[a-z][a-z0-9+.-]*:\/\//i.test(m) ? m : resolve(ctx.cwd, m),
      ),
      update: bool(ctx, "update"),
      reporter: ctx.reporter,
      signal: ctx.signal,
      env: ctx.env,
    });
    if (bool(ctx, "json")) {
      ctx.out(`${JSON.stringify(fetched, null, 2)}\n`);
      return undefined;
    }
    const rows = [
      describe(fetched.core, project.dir),
      ...(fetched.template ? [describe(fetched.template, project.dir)] : []),
      ...fetched.libraries.map((l) => describe(l, project.dir)),
      ...fetched.archives.map((a) => [a.lib, `archive ${a.file}`, `sha256:${a.sha256.slice(0, 12)}`]),
    ];
    const lock = relative(ctx.cwd, fetched.lockFile);
    ctx.out(`${table(rows)}\nlock: ${lock.startsWith("..") ? fetched.lockFile : lock}\n`);
    return undefined;
  },
};

export default command;
