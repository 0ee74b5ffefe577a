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

/** Choose a project's target and check it was built; throws `TARGET_AMBIGUOUS`, `TARGET_NOT_FOUND`, `NOT_BUILT`. */
export async function projectRun(
  dir: string,
  filter: { target?: string; platform?: string; arch?: string; kraftfile?: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<ProjectRun> {
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
  const list = project.targets.map((t) => `  ${t.name} (${t.platform}/${t.architecture})`);
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
  if (matching.length > 1) {
    throw new KilnError(
      "TARGET_AMBIGUOUS",
      `${project.file} has ${matching.length} matching targets; Kiln needs one`,
      {
        details: ["targets:", ...matching.map((t) => `  ${t.name} (${t.platform}/${t.architecture})`)],
        hint: "choose one with -t NAME (or --plat / -m)",
      },
    );
  }
  const target = matching[0]!;
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
