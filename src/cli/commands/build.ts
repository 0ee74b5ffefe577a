/**
 * `kiln build [DIR] [options]`: fetch a project's Unikraft sources, configure
 * each target through Kiln's Kconfig engine (make defconfig when the engine
 * cannot read the tree), build it with Unikraft's make, and print the artifacts.
 */

import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { errnoCode, KilnError, usageError } from "../../core/errors.js";
import { writeFileAtomic } from "../../core/fs.js";
import { formatBytes, formatDuration } from "../../core/units.js";
import type { Project } from "../../kraftfile/types.js";
import { linuxfileIn } from "../../orchestration/linux-project/index.js";
import { buildProjectWithEngine } from "../../orchestration/unikraft-config.js";
import { type BuildOptions, targetConfigFile } from "../../unikraft/build.js";
import { describeTargets, matchTargets, selectTargets } from "../../unikraft/select.js";
import { chooseOnTerminal } from "../choose.js";
import { bool, type CommandContext, type CommandDef, list, str } from "../command.js";
import { kraftfileOption, loadProjectFromArgs, projectDir } from "../project-options.js";

function jobsOf(ctx: CommandContext): number | undefined {
  const j = str(ctx, "jobs");
  if (j === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(j)) throw usageError(`-j expects a positive number of jobs, got "${j}"`);
  return Number(j);
}

/**
 * kraft asks which target to build when several match; Kiln does the same on
 * a terminal, and without one leaves the decision to `selectTargets` (an
 * error listing them).
 */
async function promptTarget(
  ctx: CommandContext,
  project: Project,
  opts: BuildOptions,
): Promise<string | undefined> {
  if (!ctx.stdinIsTTY || opts.all || opts.name !== undefined) return undefined;
  const matched = matchTargets(project, opts);
  if (matched.length < 2) return undefined;
  const described = describeTargets(matched);
  const picked = await chooseOnTerminal(matched, {
    heading: `${project.name} has ${matched.length} targets:`,
    question: "build which?",
    describe: (t) => described[matched.indexOf(t)]!.trim(),
    name: (t) => t.name,
    hint: "pass -t NAME or --all",
  });
  return picked.name;
}

/**
 * kraft's `build -c/--config FILE` ("override the path to the KConfig .config
 * file"): the one selected target is built with FILE's configuration, copied
 * to where Kiln keeps the target's (`<project>/.config.<target>`), without
 * merging a defconfig over it.
 */
async function useConfigFile(project: Project, opts: BuildOptions, file: string): Promise<void> {
  const text = await readFile(file, "utf8").catch((e: unknown) => {
    throw new KilnError("INPUT_NOT_FOUND", `-c ${file} cannot be read (${errnoCode(e) ?? String(e)})`, {
      hint: "give the path of a Unikraft .config file",
      cause: e,
    });
  });
  const targets = selectTargets(project, opts);
  if (targets.length !== 1) {
    throw usageError(
      `-c ${file} is one target's configuration, and ${targets.length} targets are selected (${targets.map((t) => t.name).join(", ")})`,
      "pick one with -t NAME (or -p/-m)",
    );
  }
  await writeFileAtomic(targetConfigFile(project, targets[0]!), text);
  opts.configure = false;
}

const command: CommandDef = {
  name: ["build"],
  summary: "configure and build a project's Unikraft targets",
  usage: "build [DIR] [-K FILE] [-t TARGET] [-p PLAT] [-m ARCH] [--all] [-j N] [options]",
  maxPositionals: 1,
  jsonFailure: true,
  options: {
    kraftfile: kraftfileOption("the Kraftfile (default: found in DIR)"),
    target: {
      type: "string",
      short: "t",
      valueName: "TARGET",
      description: "build the target with this name",
    },
    plat: {
      type: "string",
      short: "p",
      valueName: "PLAT",
      description: "only targets for this platform (qemu, fc)",
    },
    arch: {
      type: "string",
      short: "m",
      valueName: "ARCH",
      description: "only targets for this architecture",
    },
    all: { type: "boolean", description: "build every matching target" },
    jobs: { type: "string", short: "j", valueName: "N", description: "parallel make jobs (default: CPUs)" },
    "no-fetch": { type: "boolean", description: "use the sources already in .unikraft/" },
    "no-configure": { type: "boolean", description: "keep the existing .config.<target>" },
    strict: {
      type: "boolean",
      description: "a Kraftfile kconfig entry that does not survive into .config is an error",
    },
    force: {
      type: "boolean",
      description: "run make even when nothing it depends on changed since the last build",
    },
    offline: { type: "boolean", description: "fetch from the cache and mirrors only" },
    "with-mirror": { type: "string", multiple: true, valueName: "M", description: "mirror directory or URL" },
    dbg: { type: "boolean", description: "report the unstripped .dbg image as the kernel" },
    "build-log": {
      type: "string",
      valueName: "FILE",
      description: "write make's output here (default: <outdir>/<target>.log)",
    },
    json: { type: "boolean", description: "print the results as JSON" },
    // KraftKit's spellings (kraft build --help).
    "no-cache": {
      type: "boolean",
      short: "F",
      description: "a clean build: make clean for the project's targets first, then make (kraft's -F)",
    },
    "no-update": {
      type: "boolean",
      description:
        "keep the sources kiln.lock pins (what kiln build always does; kiln fetch --update moves them)",
    },
    config: {
      type: "string",
      short: "c",
      valueName: "FILE",
      description:
        "build one target with this .config (kraft's -c): copied to <project>/.config.<target>, no defconfig",
    },
  },
  foreignFlags: {
    "--platform": "Kiln's spelling is -p/--plat",
    "--architecture": "Kiln's spelling is -m/--arch",
    "--force-pull": "Kiln's spelling is kiln fetch --update (then kiln build)",
    "--no-pull": "Kiln's spelling is --no-fetch",
    "--rootfs":
      "a target's root filesystem comes from the Kraftfile's rootfs:/initrd:; build images with kiln rootfs build",
  },
  details: [
    "DIR defaults to the current directory. For each target Kiln merges the kconfig of the",
    "core, libraries, target and env into a defconfig, runs `make defconfig` (only when it",
    "changed) and `make -jN`, and packs the initrd (a spec v0.5 target's initrd:, else the rootfs: directory).",
    "make is skipped when nothing it depends on changed since its last successful run",
    "(make's command line, PATH and the other variables make and gcc read, the compiler,",
    "every file of the core, libraries and application, the .config, the built image);",
    "the target is then reported up to date and its log left as it was. --force runs make.",
    "Building for another architecture picks the cross compiler itself (arm64 on x86_64:",
    "aarch64-linux-gnu-, from Debian's gcc-aarch64-linux-gnu).",
    "",
    "examples:",
    "  kiln build                       # the only target, or choose",
    "  kiln build -p qemu -m arm64",
    "  kiln build --all --offline --with-mirror /srv/unikraft-mirror",
  ].join("\n"),
  async run(ctx) {
    // A directory with a Linuxfile and no Kraftfile is a Linux microVM project.
    const linuxfile = str(ctx, "kraftfile") ? undefined : linuxfileIn(projectDir(ctx));
    if (linuxfile) {
      const { buildLinuxfile } = await import("../linux-project.js");
      return buildLinuxfile(ctx, linuxfile, projectDir(ctx), jobsOf(ctx));
    }
    const { project, diagnostics } = await loadProjectFromArgs(ctx);
    for (const d of diagnostics) ctx.reporter.warn(`${d.file}:${d.line}:${d.col}: ${d.message}`);
    if (project.runtime) {
      // A `runtime:` project builds no kernel: its root filesystem is packed and the runtime checked.
      const { buildRuntimeProject } = await import("../../orchestration/package-run.js");
      const r = await buildRuntimeProject(project, {
        env: ctx.env,
        reporter: ctx.reporter,
        signal: ctx.signal,
      });
      if (bool(ctx, "json"))
        ctx.out(`${JSON.stringify({ project: project.name, file: project.file, ...r }, null, 2)}\n`);
      else
        ctx.out(
          `${project.name}: runtime ${r.runtime}\n  kernel  ${r.kernel}\n${r.initrd ? `  initrd  ${r.initrd}\n` : ""}`,
        );
      return undefined;
    }
    const buildLog = str(ctx, "build-log");
    const opts: BuildOptions = {
      ...(str(ctx, "target") !== undefined ? { name: str(ctx, "target")! } : {}),
      ...(str(ctx, "plat") !== undefined ? { platform: str(ctx, "plat")! } : {}),
      ...(str(ctx, "arch") !== undefined ? { architecture: str(ctx, "arch")! } : {}),
      all: bool(ctx, "all"),
      fetch: !bool(ctx, "no-fetch"),
      configure: !bool(ctx, "no-configure"),
      force: bool(ctx, "force"),
      offline: bool(ctx, "offline"),
      // Relative mirror directories are from where kiln runs, as in kiln fetch.
      mirrors: list(ctx, "with-mirror").map((m) =>
        /^[a-z][a-z0-9+.-]*:\/\//i.test(m) ? m : resolve(ctx.cwd, m),
      ),
      debug: bool(ctx, "dbg"),
      ...(buildLog ? { buildLog: resolve(ctx.cwd, buildLog) } : {}),
      reporter: ctx.reporter,
      env: ctx.env,
      signal: ctx.signal,
    };
    const jobs = jobsOf(ctx);
    if (jobs !== undefined) opts.jobs = jobs;
    const picked = await promptTarget(ctx, project, opts);
    if (picked) opts.name = picked;
    if (bool(ctx, "no-cache")) {
      // kraft's --no-cache rebuilds from scratch: Unikraft's make clean, then a build make must run.
      const { cleanProject } = await import("../../unikraft/clean.js");
      await cleanProject(project, { reporter: ctx.reporter, env: ctx.env });
      opts.force = true;
    }
    if (bool(ctx, "strict")) opts.strict = true;
    const configGiven = str(ctx, "config");
    if (configGiven !== undefined) await useConfigFile(project, opts, resolve(ctx.cwd, configGiven));
    const results = await buildProjectWithEngine(project, opts);
    if (bool(ctx, "json")) {
      ctx.out(
        `${JSON.stringify({ project: project.name, file: project.file, targets: results }, null, 2)}\n`,
      );
      return undefined;
    }
    for (const r of results) {
      ctx.out(`${r.target}: ${r.steps === 0 ? "up to date" : `built in ${formatDuration(r.durationMs)}`}\n`);
      ctx.out(`  kernel  ${r.kernel} (${formatBytes(r.kernelSizeBytes)})\n`);
      if (r.initrd) ctx.out(`  initrd  ${r.initrd} (${formatBytes(r.initrdSizeBytes ?? 0)})\n`);
      ctx.out(`  config  ${r.configFile}\n  log     ${r.logFile}\n`);
      if (r.platform === "firecracker") {
        ctx.out(
          "  note    a Firecracker image has no PVH note: QEMU cannot boot it; run it with Firecracker\n",
        );
      }
    }
    return undefined;
  },
};

export default command;
