/**
 * `kiln run` on a project: pick the built target (`-t`, `--plat`, `-m`) and
 * turn the Kraftfile's `cmd`, `env` and `volumes` into run settings.
 */
import { existsSync } from "node:fs";
import { KilnError } from "../core/errors.js";
import { loadProject } from "../kraftfile/index.js";
import type { Project, Target } from "../kraftfile/types.js";
import { targetArtifacts } from "../unikraft/artifacts.js";

export interface ProjectRun {
  project: Project;
  target: Target;
  kernel: string;
  initrd?: string;
}

/** A run's target filter (`-t`, `--plat`, `-m`, `-K`). */
export interface ProjectRunFilter {
  target?: string;
  platform?: string;
  arch?: string;
  kraftfile?: string;
}

/** The targets a filter matches, and those of them that are built (their image exists). */
export async function runCandidates(
  dir: string,
  filter: ProjectRunFilter,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ project: Project; matching: Target[]; built: Target[] }> {
  const { project } = await loadProject(dir, { kraftfile: filter.kraftfile, env });
  const arch = filter.arch === "amd64" ? "x86_64" : filter.arch === "aarch64" ? "arm64" : filter.arch;
  const plat =
    filter.platform === "fc" ? "firecracker" : filter.platform === "kvm" ? "qemu" : filter.platform;
  const matching = project.targets.filter(
    (t) =>
      (filter.target === undefined || t.name === filter.target) &&
      (plat === undefined || t.platform === plat) &&
      (arch === undefined || t.architecture === arch),
  );
  const built = matching.filter((t) => existsSync(targetArtifacts(project, t).kernel));
  return { project, matching, built };
}

/** How a target is listed: `name (platform/arch)`. */
export function describeRunTarget(t: Target): string {
  return `${t.name} (${t.platform}/${t.architecture})`;
}

/**
 * Choose a project's target and check it was built: the one target that
 * matches, else the one matching target that is built (the tutorial's
 * `kraft build` then `kraft run` in the project directory); throws
 * `TARGET_AMBIGUOUS` listing the built ones when several are, `NOT_BUILT`
 * when none is, `TARGET_NOT_FOUND` when nothing matches.
 */
export async function projectRun(
  dir: string,
  filter: ProjectRunFilter,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ProjectRun> {
  const { project, matching, built } = await runCandidates(dir, filter, env);
  const list = project.targets.map((t) => `  ${describeRunTarget(t)}`);
  if (matching.length === 0) {
    throw new KilnError(
      "TARGET_NOT_FOUND",
      `no target of ${project.file} matches ${[
        filter.target !== undefined ? `-t ${filter.target}` : undefined,
        filter.platform !== undefined ? `--plat ${filter.platform}` : undefined,
        filter.arch !== undefined ? `-m ${filter.arch}` : undefined,
      ]
        .filter((x) => x !== undefined)
        .join(" ")}`,
      {
        details: ["targets:", ...list],
        hint: "choose one with -t NAME (or --plat / -m)",
      },
    );
  }
  if (matching.length > 1 && built.length > 1) {
    throw new KilnError(
      "TARGET_AMBIGUOUS",
      `${project.file} has ${built.length} built targets matching; Kiln needs one`,
      {
        details: ["built targets:", ...built.map((t) => `  ${describeRunTarget(t)}`)],
        hint: "choose one with -t NAME (or --plat / -m)",
      },
    );
  }
  if (matching.length > 1 && built.length === 0) {
    throw new KilnError(
      "NOT_BUILT",
      `none of the ${matching.length} targets of ${project.file} that match is built`,
      {
        details: ["targets:", ...matching.map((t) => `  ${describeRunTarget(t)}`)],
        hint: "build one first: kiln build (or kiln build -t NAME)",
      },
    );
  }
  const target = matching.length === 1 ? matching[0]! : built[0]!;
  const art = targetArtifacts(project, target);
  if (!existsSync(art.kernel)) {
    throw new KilnError("NOT_BUILT", `target ${target.name} is not built: ${art.kernel} does not exist`, {
      hint: `run: kiln build -t ${target.name}`,
    });
  }
  return {
    project,
    target,
    kernel: art.kernel,
    ...(art.initrd && existsSync(art.initrd) ? { initrd: art.initrd } : {}),
  };
}
