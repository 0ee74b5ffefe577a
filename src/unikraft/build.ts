/**
 * `kiln build`: sources → configure → make, per target, the way the Unikraft
 * tutorial's make method does it by hand (`UK_DEFCONFIG=… make defconfig`,
 * then `make -j`) and KraftKit automates it (unikraft/app/application.go:
 * the merged kconfig written to a file passed as `UK_DEFCONFIG`).
 *
 * A rebuild with nothing changed runs no make at all:
 * - the defconfig is compared with the last one used, and `make defconfig`
 *   is skipped when it is identical and the `.config` exists, so no file
 *   make depends on gets a newer timestamp;
 * - then the target's fingerprint (`fingerprint.ts`: make's command line,
 *   the environment variables and tools it uses, the state of every file in
 *   the core, libraries and application, the `.config`, and the built image)
 *   is compared with the one stored after the last successful make; when it
 *   is identical make is skipped — Unikraft's make takes ≈0.5 s just to find
 *   it has nothing to do — and the previous build log is left as it was.
 *   `force` runs make regardless.
 */
import { existsSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join, resolve, sep } from "node:path";
import { KilnError } from "../core/errors.js";
import { which } from "../core/exec.js";
import { writeFileAtomic } from "../core/fs.js";
import { type Reporter, silentReporter } from "../core/output.js";
import { kilnDirs } from "../core/paths.js";
import type { Project, Target } from "../kraftfile/types.js";
import { targetArtifacts } from "./artifacts.js";
import {
  defconfigText,
  type MissingOption,
  missingOptions,
  parseVersionMk,
  planKconfig,
  stdinWarning,
} from "./config.js";
import type { ConfigureRequest, TargetConfigurer } from "./configurer.js";
import { dropFingerprint, type FingerprintSpec, fingerprintPath } from "./fingerprint.js";
import { crossToolchainFor, hostArchitecture, type MakeInvocation, planMake } from "./make.js";
import { makeUnlessUpToDate, PendingLog } from "./make-step.js";
import { imageSizeBytes, packInitrd, publishImage } from "./publish.js";
import { explainMissingSymbols } from "./renames.js";
import { runMake } from "./run-make.js";
import { selectTargets, type TargetFilter } from "./select.js";
import { shareAfterBuild, sharingEnabled, unshareBuildDir } from "./share.js";
import { type ProjectSourceDirs, projectSourceDirs } from "./source-dirs.js";
import { headCommit } from "./sources/git.js";
import { archiveNeeds, seedArchives } from "./sources/index.js";
import { lockFilePath } from "./sources/lockfile.js";
import { checkTargetInitrd, packTargetInitrd } from "./target-initrd.js";

export interface BuildOptions extends TargetFilter {
  /** Configure through this instead of `make defconfig` (see {@link TargetConfigurer}). */
  configurer?: TargetConfigurer;
  /** A requested Kconfig option that does not survive is an error, not a warning. */
  strict?: boolean;
  /** Parallel make jobs; default: the number of CPUs. */
  jobs?: number;
  /** Fetch sources first (default true); false uses what `.unikraft/` holds. */
  fetch?: boolean;
  /** Write the defconfig and run `make defconfig` (default true). */
  configure?: boolean;
  /** Run make even when the target's fingerprint says nothing changed. */
  force?: boolean;
  /** Use only the cache and mirrors when fetching. */
  offline?: boolean;
  /** Mirrors tried before upstream when fetching. */
  mirrors?: string[];
  /** Report the unstripped `.dbg` image as the kernel. */
  debug?: boolean;
  /** One log file for every target instead of `<outdir>/<target>.log`. */
  buildLog?: string;
  /** Store files identical across targets of one architecture once (`share.ts`; default: unless `KILN_NO_SHARE=1`). */
  share?: boolean;
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
  /** make's output; when make was skipped, the log of the build that made the image. */
  logFile: string;
  /** Whether `make defconfig` ran (false when the configuration was unchanged). */
  configured: boolean;
  /** Whether make was skipped because the fingerprint matched the last successful build. */
  skippedMake: boolean;
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
  const shared = opts.buildLog ? new PendingLog(opts.buildLog) : undefined;
  const results: TargetBuildResult[] = [];
  try {
    for (const target of targets) {
      const log = shared ?? new PendingLog(join(project.outdir, `${target.name}.log`));
      try {
        results.push(await buildTarget(project, target, dirs, log, opts, reporter));
      } finally {
        if (!shared) await log.close();
      }
    }
  } finally {
    await shared?.close();
  }
  if (opts.share !== false && sharingEnabled(opts.env ?? process.env)) {
    const ran = results.filter((r) => !r.skippedMake).map((r) => r.architecture);
    await shareAfterBuild(project, ran, dirs.libraries, reporter);
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
  log: PendingLog,
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
  const fingerprintFile = fingerprintPath(art.buildDir, target.name);
  if (target.initrd && art.initrd) await checkTargetInitrd(target, art.initrd);
  const defconfig = join(art.buildDir, `defconfig.${target.name}`);

  let configured = false;
  let missing: MissingOption[] = [];
  let reasons: Map<string, string> | undefined;
  if (opts.configure !== false) {
    const coreVersion = await readCoreVersion(dirs.core);
    const plan = planKconfig(project, target, coreVersion ? { coreVersion } : {});
    // The sources' commits head the defconfig (a comment Kconfig ignores), so moving the core or a
    // library to another release configures again: a `.config` made by another core's Kconfig
    // lacks the symbols this one has (and keeps ones it dropped).
    const text = `${await sourcesIdentity(dirs, env)}${defconfigText(plan.options)}`;
    // What the engine is asked: to write the target's .config (`write`), or only to explain `missing`.
    const configureRequest = (write: boolean, asked: MissingOption[]): ConfigureRequest => ({
      project,
      target,
      dirs,
      buildDir: art.buildDir,
      configFile,
      plan,
      defconfig: text,
      write,
      missing: asked,
      env,
      reporter,
    });
    const previous = await readFile(defconfig, "utf8").catch(() => undefined);
    if (previous !== text || !existsSync(configFile)) {
      await dropFingerprint(fingerprintFile);
      // Used from a temporary name and renamed only once make accepted it, so
      // a failed configure is retried next time rather than skipped.
      const pending = `${defconfig}.pending`;
      await writeFileAtomic(pending, text);
      for (const a of plan.adjustments) reporter.info(`${target.name}: ${a.name}=${a.value} (${a.reason})`);
      const progress = reporter.progress(`configure ${target.name}`);
      const outcome = opts.configurer ? await opts.configurer(configureRequest(true, [])) : undefined;
      if (outcome) reasons = new Map(outcome.dropped.map((d) => [d.name, d.reason]));
      else {
        await unshareBuildDir(art.buildDir);
        await runMake(planMake({ ...base, goal: "defconfig", vars: { UK_DEFCONFIG: pending } }), {
          log: await log.get(),
          env,
          what: `configuring ${target.name}`,
        });
      }
      await rename(pending, defconfig);
      progress.done(`wrote ${configFile}`);
      configured = true;
    }
    const dotConfig = await readFile(configFile, "utf8");
    missing = missingOptions(plan.options, dotConfig);
    if (missing.length > 0 && !reasons && opts.configurer) {
      const outcome = await opts.configurer(configureRequest(false, missing));
      if (outcome) reasons = new Map(outcome.dropped.map((d) => [d.name, d.reason]));
    }
    // An option naming no symbol of this core: renamed or removed since a release that had it.
    const why = await explainMissingSymbols(
      dirs.core,
      dirs.libraries,
      missing.filter((m) => m.actual === undefined).map((m) => m.name),
      env,
    );
    const problems: string[] = [];
    for (const m of missing) {
      const reason = why.get(m.name) ?? reasons?.get(m.name);
      const got =
        reason ?? (m.actual !== undefined ? `${m.actual}` : "absent (its dependencies are not met)");
      m.reason = got;
      const line = `${m.name}=${m.requested} dropped: ${got}`;
      problems.push(line);
      if (!opts.strict) reporter.warn(`${target.name}: ${line}`);
    }
    if (opts.strict && problems.length > 0) {
      throw new KilnError(
        "BUILD_KCONFIG_DROPPED",
        `${target.name}: ${problems.length} requested Kconfig option(s) did not survive (--strict)`,
        {
          details: problems,
          hint: "fix the Kraftfile's kconfig entries (kiln config why SYMBOL -t TARGET explains each), or build without --strict",
        },
      );
    }
    const stdin = stdinWarning(plan.options, dotConfig);
    if (stdin) reporter.warn(`${target.name}: ${stdin}`);
  } else if (!existsSync(configFile)) {
    throw new KilnError("BUILD_NOT_CONFIGURED", `--no-configure given but ${configFile} does not exist`, {
      hint: "run kiln build once without --no-configure",
    });
  }

  // Libraries that download upstream archives at build time (lib-musl's
  // musl tarball) find them already in place, from the cache or a mirror.
  // Already-seeded archives that match are left alone.
  const seeded: string[] = [];
  for (const libDir of dirs.libraries) {
    const needs = await archiveNeeds(libDir);
    if (needs.length === 0) continue;
    const placed = await seedArchives(needs, art.buildDir, opts.mirrors ?? [], {
      ...(opts.offline !== undefined ? { offline: opts.offline } : {}),
      env,
      reporter,
      cwd: project.dir,
    });
    seeded.push(...placed.map((p) => p.path));
  }

  const argv = planMake({ ...base, jobs: opts.jobs ?? availableParallelism() });
  const spec: FingerprintSpec = {
    makeArgv: argv,
    env,
    trees: [
      { label: "core", dir: dirs.core },
      ...dirs.libraries.map((dir) => ({ label: "library" as const, dir })),
      { label: "app", dir: project.dir },
    ],
    // The project's .unikraft/ holds the build directory, and the core and
    // libraries Kiln placed there, walked as trees of their own. Kiln's own
    // files (a --build-log, KILN_HOME) change on every run and make never
    // reads them.
    exclude: [
      join(project.dir, ".unikraft"),
      project.outdir,
      art.buildDir,
      // Kiln writes the initrd after make (a target's `initrd.output` may be in the app directory).
      ...(art.initrd ? [art.initrd] : []),
      ...(opts.buildLog ? [opts.buildLog] : []),
      ...(env.KILN_HOME ? [resolve(env.KILN_HOME)] : Object.values(kilnDirs(env))),
      // Every target's configuration (and Kconfig's `.old` backup) and the lock file are Kiln's
      // own files in the app directory: building a second target writes its `.config.<target>`,
      // which must not count as an app change for the first. This target's own is an input below.
      ...project.targets.flatMap((t) => {
        const c = targetConfigFile(project, t);
        return [c, `${c}.old`];
      }),
      lockFilePath(project.dir),
    ],
    files: [configFile, defconfig, ...seeded],
    ...(base.crossCompile ? { crossCompile: base.crossCompile } : {}),
    outputs: [art.builtKernel, `${art.builtKernel}.dbg`],
  };
  const made = await makeUnlessUpToDate(target, spec, fingerprintFile, log, {
    ...(opts.force ? { force: true } : {}),
    ...(opts.buildLog ? { buildLog: opts.buildLog } : {}),
    env,
    reporter,
    configured,
    // A core Kiln checked out (not the user's own directory) gets its git index refreshed.
    ...(dirs.core.startsWith(join(project.dir, ".unikraft", sep)) ? { placedCore: dirs.core } : {}),
    stepsFile: join(art.buildDir, `.kiln-steps.${target.name}`),
    buildDir: art.buildDir,
  });

  await imageSizeBytes(art.builtKernel, target, log.path);
  if (art.kernel !== art.builtKernel) {
    await publishImage(art.builtKernel, art.kernel);
    await publishImage(`${art.builtKernel}.dbg`, art.kernelDbg);
  }
  const kernel = opts.debug ? art.kernelDbg : art.kernel;
  const kernelSizeBytes = await imageSizeBytes(kernel, target, log.path);
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
    skippedMake: made.skipped,
    steps: made.steps,
    durationMs: Date.now() - started,
    missingOptions: missing,
  };
  if (target.initrd && project.rootfs) {
    reporter.warn(
      `${target.name}: the target's own initrd is used; the project's rootfs ${project.rootfs.source} is not packed for it`,
    );
  }
  const initrd =
    target.initrd && art.initrd
      ? await packTargetInitrd(project, target, art.initrd, reporter)
      : await packInitrd(project, art.initrd, reporter);
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

/** `# sources: <dir> <commit>` lines for the core and libraries that are git work trees. */
async function sourcesIdentity(dirs: ProjectSourceDirs, env: NodeJS.ProcessEnv): Promise<string> {
  const lines: string[] = [];
  for (const dir of [dirs.core, ...dirs.libraries]) {
    const commit = await headCommit(dir, env);
    if (commit) lines.push(`# sources: ${dir} ${commit}\n`);
  }
  return lines.join("");
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
