/**
 * Unikraft targets on Kiln's Kconfig engine: a target's Kconfig tree opened
 * the way Unikraft's make opens it (src/kconfig/unikraft.ts, from the
 * project's core, libraries and application directories), its Kraftfile
 * options merged in KraftKit's order (src/unikraft/config.ts `planKconfig`)
 * and applied as `conf --defconfig` applies `UK_DEFCONFIG`. The result is
 * the `.config` Unikraft's `make defconfig` writes, byte for byte, plus the
 * reason each requested option did not survive.
 */
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { writeFileAtomic } from "../core/fs.js";
import type { Reporter } from "../core/output.js";
import { explainDrop } from "../kconfig/drop.js";
import { type Config, defconfig } from "../kconfig/ops.js";
import type { KconfigTree } from "../kconfig/types.js";
import { openUnikraftTree, parseUnikraftKconfig, type UnikraftTree } from "../kconfig/unikraft.js";
import { type KconfigEntryLocation, locateKconfigEntries } from "../kraftfile/kconfig-edit.js";
import type { Project, Target } from "../kraftfile/types.js";
import { targetArtifacts } from "../unikraft/artifacts.js";
import {
  type BuildOptions,
  buildProject,
  type TargetBuildResult,
  targetConfigFile,
} from "../unikraft/build.js";
import {
  type CoreVersion,
  defconfigText,
  type KconfigOrigin,
  type KconfigPlan,
  type MissingOption,
  missingOptions,
  parseVersionMk,
  planKconfig,
} from "../unikraft/config.js";
import type { ConfigureOutcome, TargetConfigurer } from "../unikraft/configurer.js";
import { selectTargets, type TargetFilter } from "../unikraft/select.js";
import { type ProjectSourceDirs, projectSourceDirs } from "../unikraft/source-dirs.js";

/** A target's Kconfig tree, parsed, with the plan the Kraftfile asks for. */
export interface TargetKconfig {
  project: Project;
  target: Target;
  dirs: ProjectSourceDirs;
  /** The target's `.config` (`<project>/.config.<target>`, where the build keeps it). */
  configFile: string;
  buildDir: string;
  ut: UnikraftTree;
  tree: KconfigTree;
  plan: KconfigPlan;
  /** The core's release (version.mk), which decides Kiln's adjustments to the plan. */
  coreVersion: CoreVersion | undefined;
  parseMs: number;
}

export interface TargetKconfigOptions {
  /** Source directories already resolved (else resolved, and fetched unless `fetch: false`). */
  dirs?: ProjectSourceDirs;
  fetch?: boolean;
  offline?: boolean;
  mirrors?: string[];
  env?: NodeJS.ProcessEnv;
  reporter?: Reporter;
}

/** Opens and parses a project target's Kconfig tree. */
export async function openTargetKconfig(
  project: Project,
  target: Target,
  opts: TargetKconfigOptions = {},
): Promise<TargetKconfig> {
  const dirs =
    opts.dirs ??
    (await projectSourceDirs(project, {
      ...(opts.fetch !== undefined ? { fetch: opts.fetch } : {}),
      ...(opts.offline !== undefined ? { offline: opts.offline } : {}),
      ...(opts.mirrors ? { mirrors: opts.mirrors } : {}),
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.reporter ? { reporter: opts.reporter } : {}),
    }));
  const buildDir = targetArtifacts(project, target).buildDir;
  const configFile = targetConfigFile(project, target);
  const env = opts.env ?? process.env;
  const ut = openUnikraftTree({
    coreDir: dirs.core,
    appDir: project.dir,
    libDirs: dirs.libraries,
    buildDir,
    name: project.name,
    configFile,
    arch: target.architecture,
    env: { PATH: env.PATH ?? "/usr/bin:/bin", HOME: env.HOME ?? "/" },
  });
  const started = performance.now();
  const tree = parseUnikraftKconfig(ut);
  const parseMs = performance.now() - started;
  const versionText = await readFile(join(dirs.core, "version.mk"), "utf8").catch(() => "");
  const coreVersion = parseVersionMk(versionText);
  const plan = planKconfig(project, target, coreVersion ? { coreVersion } : {});
  return { project, target, dirs, configFile, buildDir, ut, tree, plan, coreVersion, parseMs };
}

/** A requested option that did not survive, with the reason and where it was asked for. */
export interface DroppedOption extends MissingOption {
  reason: string;
  origin: KconfigOrigin | undefined;
  /** The Kraftfile line that set it, when it is written there. */
  line?: number;
}

/** `conf --defconfig` of the plan (what `make defconfig UK_DEFCONFIG=…` does). */
export function configureFromPlan(tk: TargetKconfig, defconfigTextIn?: string): Config {
  const text = defconfigTextIn ?? defconfigText(tk.plan.options);
  return defconfig(tk.tree, text, join(tk.buildDir, `defconfig.${tk.target.name}`));
}

/** Which requested options a `.config` lost, each with its reason from `why`. */
export function droppedOptions(
  tk: TargetKconfig,
  config: Config,
  dotconfig: string,
  entries: KconfigEntryLocation[] = [],
): DroppedOption[] {
  return missingOptions(tk.plan.options, dotconfig).map((m) => {
    const line = m.requested === "n" ? `# ${m.name} is not set` : `${m.name}=${m.requested}`;
    const origin = tk.plan.origins[m.name];
    const at = entryFor(tk, entries, m.name, origin);
    return {
      ...m,
      reason: explainDrop(config, m.name.replace(/^CONFIG_/, ""), line),
      origin,
      ...(at ? { line: at.line } : {}),
    };
  });
}

/** The Kraftfile entry an origin points at. */
export function entryFor(
  tk: TargetKconfig,
  entries: KconfigEntryLocation[],
  symbol: string,
  origin: KconfigOrigin | undefined,
): KconfigEntryLocation | undefined {
  if (!origin) return undefined;
  const index = tk.project.targets.indexOf(tk.target);
  return entries.find(
    (e) =>
      e.symbol === symbol &&
      ((origin.kind === "core" && e.scope.kind === "core") ||
        (origin.kind === "library" && e.scope.kind === "library" && e.scope.name === origin.name) ||
        (origin.kind === "target" && e.scope.kind === "target" && e.scope.index === index)),
  );
}

/** The Kraftfile's kconfig entries, or none when it cannot be read. */
export async function kraftfileEntries(project: Project): Promise<KconfigEntryLocation[]> {
  const text = await readFile(project.file, "utf8").catch(() => undefined);
  if (text === undefined) return [];
  try {
    return locateKconfigEntries(text);
  } catch {
    return [];
  }
}

/**
 * Writes a target's `.config` atomically. No `.old` copy: Unikraft's conf
 * (Linux 5.2's conf_write() there) replaces the file without keeping one.
 */
export async function writeDotConfig(file: string, text: string): Promise<void> {
  await writeFileAtomic(file, text);
}

let fallbackSaid = false;

/**
 * `kiln build`'s configure step on the engine. A tree the engine cannot
 * parse falls back to `make defconfig` (said once per process).
 */
export const engineConfigurer: TargetConfigurer = async (req): Promise<ConfigureOutcome | undefined> => {
  let tk: TargetKconfig;
  try {
    tk = await openTargetKconfig(req.project, req.target, { dirs: req.dirs, env: req.env });
  } catch (e) {
    if (!fallbackSaid) {
      fallbackSaid = true;
      const msg = e instanceof Error ? e.message : String(e);
      req.reporter.warn(
        `Kiln's Kconfig engine cannot read this Unikraft tree (${msg}); configuring with make`,
      );
    }
    return undefined;
  }
  const entries = await kraftfileEntries(req.project);
  if (!req.write) {
    // the kept .config (the Kraftfile did not change): what the Kraftfile's own configuration lacks,
    // then what a later kiln config set / kiln menu changed
    const text = await readFile(req.configFile, "utf8");
    const planned = configureFromPlan(tk, req.defconfig);
    const fromPlan = droppedOptions(tk, planned, planned.dotconfig(), entries);
    const known = new Set(fromPlan.map((d) => d.name));
    const later = `in ${basename(req.configFile)}, changed after it was configured from the Kraftfile (kiln config defconfig -t ${req.target.name} starts again from it)`;
    const changed: DroppedOption[] = missingOptions(tk.plan.options, text)
      .filter((m) => !known.has(m.name))
      .map((m) => ({ ...m, reason: `${m.actual ?? "not set"} ${later}`, origin: tk.plan.origins[m.name] }));
    return { dropped: [...fromPlan, ...changed].map(withLine) };
  }
  const config = configureFromPlan(tk, req.defconfig);
  const text = config.dotconfig();
  await writeDotConfig(req.configFile, text);
  return { dropped: droppedOptions(tk, config, text, entries).map(withLine) };
};

function withLine(d: DroppedOption): DroppedOption {
  return d.line !== undefined ? { ...d, reason: `${d.reason} (Kraftfile line ${d.line})` } : d;
}

/** `kiln build` with configuration through Kiln's Kconfig engine. */
export function buildProjectWithEngine(
  project: Project,
  opts: BuildOptions = {},
): Promise<TargetBuildResult[]> {
  return buildProject(project, { configurer: engineConfigurer, ...opts });
}

/** The one target `filter` selects (`-t NAME`, `-p`, `-m`; the only target when none is given). */
export function pickTarget(project: Project, filter: TargetFilter): Target {
  return selectTargets(project, { ...filter, all: false })[0] as Target;
}
