/**
 * The build step of `kiln build` for one target: Unikraft's make, unless the
 * target's fingerprint (`fingerprint.ts`) says nothing make depends on
 * changed since its last successful run. Also the build log, which is opened
 * (truncated) only when a make actually runs.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import type { Reporter } from "../core/output.js";
import { formatBytes, formatDuration } from "../core/units.js";
import type { Target } from "../kraftfile/types.js";
import {
  changedParts,
  contentHashes,
  dropFingerprint,
  type FingerprintSpec,
  outputParts,
  racyChanges,
  readFingerprint,
  sealFingerprint,
  takeInputs,
  writeFingerprint,
} from "./fingerprint.js";
import { type BuildLog, openBuildLog, runMake } from "./run-make.js";
import { unshareBuildDir } from "./share.js";
import { refreshRacyIndex } from "./sources/git.js";

/**
 * A build log opened (and truncated) only when a make is about to run, so a
 * target whose make is skipped keeps the log of the build that made its image.
 */
export class PendingLog {
  private log: BuildLog | undefined;
  constructor(readonly path: string) {}
  async get(): Promise<BuildLog> {
    this.log ??= await openBuildLog(this.path);
    return this.log;
  }
  async close(): Promise<void> {
    await this.log?.close();
    this.log = undefined;
  }
}

/** How the build step runs. */
export interface MakeStepOptions {
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  /** Run make whatever the fingerprint says. */
  force?: boolean;
  /** `make defconfig` just ran: make runs. */
  configured: boolean;
  /** An explicit `--build-log` (told when make is skipped). */
  buildLog?: string;
  /** Where the step count of the last cold build is kept (progress totals). */
  stepsFile: string;
  /** The core, when Kiln checked it out with git (its index gets refreshed). */
  placedCore?: string;
  /** make's `O=`: files shared with other targets' build directories are made private first. */
  buildDir?: string;
}

/**
 * The build step: make, unless `configure` ran nothing, `force` is off, and
 * the fingerprint of the inputs and outputs equals the one stored after the
 * last successful make. The stored fingerprint is removed before make runs
 * and rewritten after it succeeded: inputs as they were before make started
 * (an edit made while make ran counts next time), outputs as make left them.
 */
export async function makeUnlessUpToDate(
  target: Target,
  spec: FingerprintSpec,
  fingerprintFile: string,
  log: PendingLog,
  o: MakeStepOptions,
): Promise<{ skipped: boolean; steps: number }> {
  const inputs = takeInputs(spec);
  const now = sealFingerprint({ ...inputs.parts, ...outputParts(spec.outputs) });
  const stored = await readFingerprint(fingerprintFile);
  const progress = o.reporter.progress(`build ${target.name}`);
  const same = !o.force && !o.configured && stored?.sha256 === now.sha256;
  const racyChanged = same ? racyChanges(stored) : [];
  if (same && racyChanged.length === 0) {
    // Files that were racily clean then and are not any more need no content check from now on.
    if (Object.keys(stored.racy).length > inputs.racy.length) {
      const racy = Object.fromEntries(inputs.racy.map((f) => [f, stored.racy[f] ?? ""]));
      await writeFingerprint(fingerprintFile, { ...stored, racy });
    }
    if (o.buildLog) {
      (await log.get()).write(
        `kiln: ${target.name} is up to date (nothing make depends on changed); make not run\n`,
      );
    }
    progress.done("up to date");
    return { skipped: true, steps: 0 };
  }
  // Hashed before make reads them: an edit after this point differs next time.
  const racy = contentHashes(inputs.racy);
  const why = o.force
    ? ["--force"]
    : o.configured
      ? ["configuration"]
      : same
        ? racyChanged.map((f) => `content of ${f}`)
        : changedParts(stored, now);
  await dropFingerprint(fingerprintFile);
  const out = await log.get();
  out.write(`kiln: make runs for ${target.name}; changed since the last build: ${why.join(", ")}\n`);
  if (o.placedCore) {
    await refreshRacyIndex(o.placedCore, inputs.newestMtimeNs.get(o.placedCore) ?? 0n, o.env);
  }
  if (o.buildDir) {
    // make writes objects in place (O_TRUNC): a file shared with another target must be ours first.
    const u = await unshareBuildDir(o.buildDir);
    if (u.copiedFiles > 0) {
      out.write(
        `kiln: ${u.copiedFiles} files (${formatBytes(u.copiedBytes)}) shared with other targets made private in ${formatDuration(u.durationMs)}\n`,
      );
    }
  }
  const expected = Number(await readFile(o.stepsFile, "utf8").catch(() => "")) || undefined;
  const cold = !spec.outputs.every((f) => existsSync(f));
  // The total comes from the step count of the last cold build of this
  // target; before there was one, make's own output gives no total (it
  // prints each step as it starts), so the progress says so instead.
  const made = await runMake([...spec.makeArgv], {
    log: out,
    env: o.env,
    progress,
    ...(expected ? { expectedSteps: expected } : {}),
    noTotalNote: expected
      ? "(more steps than the last full build)"
      : cold
        ? "(first build: total unknown)"
        : "(total unknown)",
    what: `building ${target.name}`,
  });
  if (cold && made.steps > 0) await writeFile(o.stepsFile, `${made.steps}\n`);
  // Without its image the build is reported as failed (BUILD_NO_IMAGE): no fingerprint either.
  if (spec.outputs.every((f) => existsSync(f))) {
    await writeFingerprint(
      fingerprintFile,
      sealFingerprint({ ...inputs.parts, ...outputParts(spec.outputs) }, racy),
    );
  }
  progress.done(made.steps === 0 ? "up to date" : `${made.steps} steps`);
  return { skipped: false, steps: made.steps };
}
