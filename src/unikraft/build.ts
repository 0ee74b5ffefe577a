/**
 * `kiln build`: sources → configure → make, per target, the way the Unikraft
 * tutorial's make method does it by hand (`UK_DEFCONFIG=… make defconfig`,
 * then `make -j`) and KraftKit automates it (unikraft/app/application.go:
 * the merged kconfig written to a file passed as `UK_DEFCONFIG`).
 *
 * A rebuild with nothing changed does no work beyond make's own no-op: the
 * defconfig is compared with the last one used and `make defconfig` is
 * skipped when it is identical and the `.config` exists, so no file make
 * depends on gets a newer timestamp.
 */
import { existsSync } from "node:fs";
import { copyFile, link, lstat, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { KilnError } from "../core/errors.js";
import { which } from "../core/exec.js";
import { tempPathFor, writeFileAtomic } from "../core/fs.js";
import { type Reporter, silentReporter } from "../core/output.js";
import type { Project, Target } from "../kraftfile/types.js";
import { targetArtifacts } from "./artifacts.js";
import { defconfigText, type MissingOption, missingOptions, parseVersionMk, planKconfig } from "./config.js";
import { crossToolchainFor, hostArchitecture, type MakeInvocation, planMake } from "./make.js";
import { type BuildLog, openBuildLog, runMake } from "./run-make.js";
import { selectTargets, type TargetFilter } from "./select.js";
import { type ProjectSourceDirs, projectSourceDirs } from "./source-dirs.js";
import { archiveNeeds, seedArchives } from "./sources/index.js";

export interface BuildOptions extends TargetFilter {
  /** Parallel make jobs; default: the number of CPUs. */
  jobs?: number;
  /** Fetch sources first (default true); false uses what `.unikraft/` holds. */
  fetch?: boolean;
  /** Write the defconfig and run `make defconfig` (default true). */
  configure?: boolean;
  /** Use only the cache and mirrors when fetching. */
  offline?: boolean;
  /** Mirrors tried before upstream when fetching. */
  mirrors?: string[];
  /** Report the unstripped `.dbg` image as the kernel. */
  debug?: boolean;
  /** One log file for every target instead of `<outdir>/<target>.log`. */
  buildLog?: string;
  reporter?: Reporter;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export interface TargetBuildResult {
  target: string;
  platform: Target["platform"];
  architecture: Target["architecture"];
  /** The image to boot (the `.dbg` one with `debug`). */
  kernel: string;
  kernelSizeBytes: number;
  /** The unstripped image. */
  kernelDbg: string;
  initrd?: string;
  initrdSizeBytes?: number;
  /** The `.config` the target was built with. */
  configFile: string;
  logFile: string;
  /** Whether `make defconfig` ran (false when the configuration was unchanged). */
  configured: boolean;
  /** Compile/link steps make performed (0 for a no-op rebuild). */
  steps: number;
  durationMs: number;
  /** Requested options that did not survive into `.config`. */
  missingOptions: MissingOption[];
}

/** Build the selected targets of `project`, in order. */
export async function buildProject(project: Project, opts: BuildOptions = {}): Promise<TargetBuildResult[]> {
  const reporter = opts.reporter ?? silentReporter;
  if (!project.unikraft) {
    throw new KilnError("BUILD_NO_CORE", `${project.file} has no unikraft: core to build`, {
      hint: project.runtime
        ? `this project runs the prebuilt runtime ${project.runtime}; use kiln run`
        : "add `unikraft: stable` to the Kraftfile",
    });
  }
  const targets = selectTargets(project, opts);
  const dirs = await projectSourceDirs(project, { ...opts, reporter });
  await ensureAppMakefile(project.dir);
  const shared = opts.buildLog ? await openBuildLog(opts.buildLog) : undefined;
  const results: TargetBuildResult[] = [];
  try {
    for (const target of targets) {
      const log = shared ?? (await openBuildLog(join(project.outdir, `${target.name}.log`)));
      try {
        results.push(await buildTarget(project, target, dirs, log, opts, reporter));
      } finally {
        if (!shared) await log.close();
      }
    }
  } finally {
    await shared?.close();
  }
  return results;
}

/** The `.config` a target is built with: `<project>/.config.<target>`, as KraftKit names it. */
export function targetConfigFile(project: Project, target: Target): string {
  return join(project.dir, `.config.${target.name}`);
}

async function buildTarget(
  project: Project,
  target: Target,
  dirs: ProjectSourceDirs,
  log: BuildLog,
  opts: BuildOptions,
  reporter: Reporter,
): Promise<TargetBuildResult> {
  const started = Date.now();
  const art = targetArtifacts(project, target);
  const configFile = targetConfigFile(project, target);
  const env = opts.env ?? process.env;
  const base: MakeInvocation = {
    coreDir: dirs.core,
    appDir: project.dir,
    libDirs: dirs.libraries,
    buildDir: art.buildDir,
    name: project.name,
    configFile,
    crossCompile: crossCompileFor(target, hostArchitecture(), env.PATH ?? ""),
  };

  let configured = false;
  let missing: MissingOption[] = [];
  if (opts.configure !== false) {
    const coreVersion = await readCoreVersion(dirs.core);
    const plan = planKconfig(project, target, coreVersion ? { coreVersion } : {});
    const text = defconfigText(plan.options);
    const defconfig = join(art.buildDir, `defconfig.${target.name}`);
    const previous = await readFile(defconfig, "utf8").catch(() => undefined);
    if (previous !== text || !existsSync(configFile)) {
      // Used from a temporary name and renamed only once make accepted it, so
      // a failed configure is retried next time rather than skipped.
      const pending = `${defconfig}.pending`;
      await writeFileAtomic(pending, text);
      for (const a of plan.adjustments) reporter.info(`${target.name}: ${a.name}=${a.value} (${a.reason})`);
      const progress = reporter.progress(`configure ${target.name}`);
      await runMake(planMake({ ...base, goal: "defconfig", vars: { UK_DEFCONFIG: pending } }), {
        log,
        env,
        what: `configuring ${target.name}`,
      });
      await rename(pending, defconfig);
      progress.done(`wrote ${configFile}`);
      configured = true;
    }
    const dotConfig = await readFile(configFile, "utf8");
    missing = missingOptions(plan.options, dotConfig);
    for (const m of missing) {
      const got = m.actual === undefined ? "absent (unknown symbol or unmet dependency)" : `${m.actual}`;
      reporter.warn(`${target.name}: ${m.name}=${m.requested} did not survive into ${configFile}: ${got}`);
    }
  } else if (!existsSync(configFile)) {
    throw new KilnError("BUILD_NOT_CONFIGURED", `--no-configure given but ${configFile} does not exist`, {
      hint: "run kiln build once without --no-configure",
    });
  }

  // Libraries that download upstream archives at build time (lib-musl's
  // musl tarball) find them already in place, from the cache or a mirror.
  for (const libDir of dirs.libraries) {
    const needs = await archiveNeeds(libDir);
    if (needs.length === 0) continue;
    await seedArchives(needs, art.buildDir, opts.mirrors ?? [], {
      ...(opts.offline !== undefined ? { offline: opts.offline } : {}),
      env,
      reporter,
      cwd: project.dir,
    });
  }

  const stepsFile = join(art.buildDir, `.kiln-steps.${target.name}`);
  const expected = Number(await readFile(stepsFile, "utf8").catch(() => "")) || undefined;
  const cold = !existsSync(`${art.builtKernel}.dbg`);
  const progress = reporter.progress(`build ${target.name}`);
  const made = await runMake(planMake({ ...base, jobs: opts.jobs ?? availableParallelism() }), {
    log,
    env,
    progress,
    ...(expected ? { expectedSteps: expected } : {}),
    what: `building ${target.name}`,
  });
  if (cold && made.steps > 0) await writeFile(stepsFile, `${made.steps}\n`);
  progress.done(made.steps === 0 ? "up to date" : `${made.steps} steps`);

  await sizeOf(art.builtKernel, target, log.path);
  if (art.kernel !== art.builtKernel) {
    await publish(art.builtKernel, art.kernel);
    await publish(`${art.builtKernel}.dbg`, art.kernelDbg);
  }
  const kernel = opts.debug ? art.kernelDbg : art.kernel;
  const kernelSizeBytes = await sizeOf(kernel, target, log.path);
  const result: TargetBuildResult = {
    target: target.name,
    platform: target.platform,
    architecture: target.architecture,
    kernel,
    kernelSizeBytes,
    kernelDbg: art.kernelDbg,
    configFile,
    logFile: log.path,
    configured,
    steps: made.steps,
    durationMs: Date.now() - started,
    missingOptions: missing,
  };
  const initrd = await packInitrd(project, art.initrd, reporter);
  if (initrd) Object.assign(result, initrd);
  return result;
}

/** `CROSS_COMPILE` for a target, checking the cross compiler is installed. */
export function crossCompileFor(
  target: Target,
  host = hostArchitecture(),
  pathEnv = process.env.PATH ?? "",
): string | undefined {
  const cross = crossToolchainFor(target.architecture, host);
  if (!cross) return undefined;
  const gcc = `${cross.prefix}gcc`;
  if (!which(gcc, pathEnv)) {
    throw new KilnError(
      "TOOL_MISSING",
      `${gcc} not found (needed to build ${target.name} for ${target.architecture} on this ${host ?? process.arch} machine)`,
      { hint: `on Debian/Ubuntu: apt-get install ${cross.debianPackage}` },
    );
  }
  return cross.prefix;
}

async function readCoreVersion(coreDir: string) {
  const text = await readFile(join(coreDir, "version.mk"), "utf8").catch(() => undefined);
  return text === undefined ? undefined : parseVersionMk(text);
}

/**
 * Unikraft requires a `Makefile.uk` in the application directory; KraftKit
 * creates an empty one when missing (unikraft/app/application.go `Make`).
 */
async function ensureAppMakefile(dir: string): Promise<void> {
  const p = join(dir, "Makefile.uk");
  if (!existsSync(p)) await writeFile(p, "", { flag: "wx" }).catch(() => undefined);
}

async function sizeOf(file: string, target: Target, logPath: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    throw new KilnError("BUILD_NO_IMAGE", `make succeeded but ${file} was not produced for ${target.name}`, {
      hint: `the image name comes from the project name and target; see ${logPath}`,
    });
  }
}

/**
 * Hard-link a built image to its published path, replacing it atomically,
 * unless it already is that file (a no-op rebuild leaves it untouched).
 */
async function publish(built: string, published: string): Promise<void> {
  const from = await stat(built).catch(() => undefined);
  if (!from) return;
  const to = await stat(published).catch(() => undefined);
  if (to && to.ino === from.ino && to.dev === from.dev) return;
  const tmp = tempPathFor(published);
  try {
    await link(built, tmp);
  } catch {
    await copyFile(built, tmp);
  }
  await rename(tmp, published);
}

/** Pack the project's `rootfs:` directory into the target's initrd (CPIO, uncompressed). */
async function packInitrd(
  project: Project,
  initrd: string | undefined,
  reporter: Reporter,
): Promise<{ initrd: string; initrdSizeBytes: number } | undefined> {
  if (!project.rootfs || !initrd) return undefined;
  const src = project.rootfs.source;
  const st = await stat(src).catch(() => undefined);
  if (!st?.isDirectory()) {
    reporter.warn(`rootfs ${src} is not a directory; Kiln packs only directories at build time`);
    return undefined;
  }
  const packed = await stat(initrd).catch(() => undefined);
  if (packed && packed.mtimeMs >= (await newestMtimeMs(src))) {
    return { initrd, initrdSizeBytes: packed.size };
  }
  // Unikraft's initrd loader reads plain newc CPIO only (no gzip), as
  // KraftKit's initramfs-<arch>.cpio is.
  const { packCpio } = await import("../image/cpio/index.js");
  await packCpio({ sourceDir: src, output: initrd, reporter });
  return { initrd, initrdSizeBytes: (await stat(initrd)).size };
}

/**
 * The newest modification time in a tree (directories included, so a removed
 * file counts as a change): the initrd is repacked only when it is older.
 */
async function newestMtimeMs(dir: string): Promise<number> {
  let newest = (await lstat(dir)).mtimeMs;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const m = e.isDirectory() ? await newestMtimeMs(p) : (await lstat(p)).mtimeMs;
    if (m > newest) newest = m;
  }
  return newest;
}
