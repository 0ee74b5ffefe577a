/**
 * `kiln clean`: like `kraft clean`, Unikraft's `make clean` for each target
 * (objects and images go, the configuration stays); `--proper` removes the
 * whole build directory as Unikraft's `make properclean` does, so the next
 * build configures and compiles from scratch. Either way the target's
 * build fingerprint (`fingerprint.ts`) goes, so the next build runs make.
 */
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { isKilnError } from "../core/errors.js";
import { type Reporter, silentReporter } from "../core/output.js";
import type { Project } from "../kraftfile/types.js";
import { targetArtifacts } from "./artifacts.js";
import { targetConfigFile } from "./build.js";
import { dropFingerprint, fingerprintPath } from "./fingerprint.js";
import { planMake } from "./make.js";
import { openBuildLog, runMake } from "./run-make.js";
import { projectSourceDirs } from "./source-dirs.js";

export interface CleanOptions {
  /** Remove the build directory entirely (`make properclean`). */
  proper?: boolean;
  reporter?: Reporter;
  env?: NodeJS.ProcessEnv;
}

export interface CleanResult {
  /** Targets `make clean` ran for. */
  cleaned: string[];
  /** Directories removed. */
  removed: string[];
}

/** Clean a project's build outputs; never touches sources or `.config.*` files. */
export async function cleanProject(project: Project, opts: CleanOptions = {}): Promise<CleanResult> {
  const reporter = opts.reporter ?? silentReporter;
  if (opts.proper) {
    const dirs = [project.outdir, ...project.targets.map((t) => targetArtifacts(project, t).buildDir)];
    const removed = [...new Set(dirs)].filter((d) => existsSync(d));
    for (const d of removed) await rm(d, { recursive: true, force: true });
    return { cleaned: [], removed };
  }
  let sources: Awaited<ReturnType<typeof projectSourceDirs>> | undefined;
  try {
    sources = await projectSourceDirs(project, { fetch: false });
  } catch (e) {
    if (!isKilnError(e, "SOURCES_MISSING") && !isKilnError(e, "BUILD_NO_CORE")) throw e;
  }
  const cleaned: string[] = [];
  for (const target of project.targets) {
    const art = targetArtifacts(project, target);
    const configFile = targetConfigFile(project, target);
    if (!existsSync(art.buildDir) || !existsSync(configFile)) continue;
    if (!sources) {
      reporter.warn(`${target.name}: the Unikraft sources are gone, so make clean cannot run; use --proper`);
      continue;
    }
    // The image goes, so the fingerprint could not match anyway; dropped
    // first, as before any make run.
    await dropFingerprint(fingerprintPath(art.buildDir, target.name));
    const log = await openBuildLog(`${art.buildDir}/clean.${target.name}.log`);
    try {
      await runMake(
        planMake({
          coreDir: sources.core,
          appDir: project.dir,
          libDirs: sources.libraries,
          buildDir: art.buildDir,
          name: project.name,
          configFile,
          goal: "clean",
        }),
        { log, env: opts.env ?? process.env, what: `cleaning ${target.name}` },
      );
    } finally {
      await log.close();
    }
    // make clean removed the built image; its published link goes too.
    if (art.kernel !== art.builtKernel) {
      await rm(art.kernel, { force: true });
      await rm(art.kernelDbg, { force: true });
    }
    cleaned.push(target.name);
  }
  return { cleaned, removed: [] };
}
