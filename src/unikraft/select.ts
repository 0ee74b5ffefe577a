/**
 * Choosing which targets of a project to build, pure. Follows `kraft build`:
 * `-t` names a target, `-p`/`-m` filter by platform and architecture; a
 * filter that matches nothing is an error listing the targets (KraftKit
 * silently built nothing: unikraft/kraftkit#563); several candidates need
 * `--all` (kraft prompts; without a terminal Kiln cannot, so it is an error
 * listing them).
 */
import { KilnError } from "../core/errors.js";
import { ARCHITECTURES, PLATFORMS } from "../kraftfile/targets.js";
import type { Architecture, Platform, Project, Target } from "../kraftfile/types.js";

export interface TargetFilter {
  /** Exact target name (`-t`). */
  name?: string;
  /** Platform (`-p`); aliases `fc` and `kvm` accepted. */
  platform?: string;
  /** Architecture (`-m`); aliases `amd64`, `aarch64` accepted. */
  architecture?: string;
  /** Build every matching target (`--all`). */
  all?: boolean;
}

/** The Kraftfile's architecture names, plus `arm32` (accepted on the command line only). */
const ARCH_ALIASES: Readonly<Record<string, Architecture>> = { ...ARCHITECTURES, arm32: "arm" };

/** One line per target: `name (platform/architecture)`. */
export function describeTargets(targets: readonly Target[]): string[] {
  return targets.map((t) => `  ${t.name} (${t.platform}/${t.architecture})`);
}

/** The targets matching `filter` (possibly several; see {@link selectTargets}). */
export function matchTargets(project: Project, filter: TargetFilter): Target[] {
  let platform: Platform | undefined;
  let arch: Architecture | undefined;
  if (filter.platform !== undefined) {
    platform = PLATFORMS[filter.platform.toLowerCase()];
    if (!platform) {
      throw new KilnError("TARGET_NOT_FOUND", `unknown platform "${filter.platform}"`, {
        hint: `platforms: ${Object.keys(PLATFORMS).join(", ")}`,
      });
    }
  }
  if (filter.architecture !== undefined) {
    arch = ARCH_ALIASES[filter.architecture.toLowerCase()];
    if (!arch) {
      throw new KilnError("TARGET_NOT_FOUND", `unknown architecture "${filter.architecture}"`, {
        hint: `architectures: ${Object.keys(ARCH_ALIASES).join(", ")}`,
      });
    }
  }
  return project.targets.filter(
    (t) =>
      (filter.name === undefined || t.name === filter.name) &&
      (platform === undefined || t.platform === platform) &&
      (arch === undefined || t.architecture === arch),
  );
}

/**
 * The targets to build. Throws `TARGET_NOT_FOUND` when the filter matches
 * none and `TARGET_AMBIGUOUS` when several match without `all`.
 */
export function selectTargets(project: Project, filter: TargetFilter): Target[] {
  const matched = matchTargets(project, filter);
  const asked = [
    filter.name !== undefined ? `-t ${filter.name}` : undefined,
    filter.platform !== undefined ? `-p ${filter.platform}` : undefined,
    filter.architecture !== undefined ? `-m ${filter.architecture}` : undefined,
  ].filter((x): x is string => x !== undefined);
  if (matched.length === 0) {
    throw new KilnError("TARGET_NOT_FOUND", `no target of ${project.name} matches ${asked.join(" ")}`, {
      details: ["targets:", ...describeTargets(project.targets)],
      hint: "pick one with -t NAME, or filter with -p PLATFORM and -m ARCH",
    });
  }
  if (matched.length > 1 && !filter.all) {
    const which = asked.length > 0 ? `match ${asked.join(" ")}` : `are defined in ${project.file}`;
    throw new KilnError("TARGET_AMBIGUOUS", `${matched.length} targets ${which}; choose one or pass --all`, {
      details: ["targets:", ...describeTargets(matched)],
      hint: `e.g. kiln build -t ${matched[0]!.name}, or kiln build --all`,
    });
  }
  return matched;
}
