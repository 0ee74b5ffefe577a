/**
 * `kiln config VERB -t TARGET` as one typed function: the `kiln config`
 * verbs on a project target's configuration (`<project>/.config.<target>`,
 * the file `kiln build` configures and builds with), KraftKit's `kraft set`
 * / `kraft unset` with `--save` writing into the Kraftfile's `kconfig:`.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { KilnError } from "../core/errors.js";
import { writeFileAtomic } from "../core/fs.js";
import { type WhyFacts, why } from "../kconfig/explain.js";
import type { ConfigVerb } from "../kconfig/linux-config.js";
import { allconfig, type Config, olddefconfig, type UnmetDependency } from "../kconfig/ops.js";
import { type SetReport, setValues } from "../kconfig/set.js";
import { unikraftHostArch } from "../kconfig/unikraft.js";
import { type KconfigScope, saveKconfigEntries } from "../kraftfile/kconfig-edit.js";
import type { Project, Target } from "../kraftfile/types.js";
import { kconfigString, originLabel } from "../unikraft/config.js";
import {
  configureFromPlan,
  type DroppedOption,
  droppedOptions,
  entryFor,
  kraftfileEntries,
  openTargetKconfig,
  type TargetKconfig,
  type TargetKconfigOptions,
  writeDotConfig,
} from "./unikraft-config.js";

export interface TargetConfigRequest {
  verb: ConfigVerb;
  /** why: one symbol; set: `SYM=VALUE`…; unset: `SYM`…. */
  args?: string[];
  /** set/unset: also write the entries into the Kraftfile's `kconfig:`. */
  save?: boolean;
  /** savedefconfig: where to write (default `<project>/defconfig.<target>`). */
  out?: string;
}

/** Where the Kraftfile sets a symbol, for `why` and the menu. */
export interface KraftfileProvenance {
  /** `core`, `library musl`, `target hello_qemu-x86_64`, `architecture x86_64`, … */
  origin: string;
  value: string;
  /** The Kraftfile line, when written there. */
  line?: number;
}

export interface TargetConfigResult {
  target: string;
  configFile: string;
  /** The file written, if any. */
  out?: string;
  why?: WhyFacts & { kraftfile?: KraftfileProvenance };
  set?: SetReport;
  /** set/unset --save: the Kraftfile entries written or removed, by scope. */
  saved?: { file: string; scope: string; entries: Record<string, string | null> }[];
  /** Requested Kraftfile options the configuration does not have (when it was made from the Kraftfile). */
  dropped: DroppedOption[];
  /** Always empty: a target has no fragments (the key keeps `kiln config`'s JSON contract). */
  overrides: [];
  unmet: UnmetDependency[];
  readWarnings: string[];
  timingsMs: { parse: number; evaluate: number };
}

/** The target's configuration: its `.config` brought up to date, else the Kraftfile's (what kiln build writes). */
export function currentConfig(tk: TargetKconfig): Config {
  return existsSync(tk.configFile)
    ? olddefconfig(tk.tree, readFileSync(tk.configFile, "utf8"))
    : configureFromPlan(tk);
}

/** Where the Kraftfile sets `symbol` for this target, if it does. */
export function provenance(
  tk: TargetKconfig,
  entries: Awaited<ReturnType<typeof kraftfileEntries>>,
  symbol: string,
): KraftfileProvenance | undefined {
  const name = `CONFIG_${symbol.replace(/^CONFIG_/, "")}`;
  const origin = tk.plan.origins[name];
  const value = tk.plan.options[name];
  if (!origin || value === undefined) return undefined;
  const at = entryFor(tk, entries, name, origin);
  return { origin: originLabel(origin), value, ...(at ? { line: at.line } : {}) };
}

const ALL = { alldefconfig: "default", allnoconfig: "no", allyesconfig: "yes", allmodconfig: "mod" } as const;

/** Runs one `kiln config` verb on a project target. */
export async function runTargetConfig(
  project: Project,
  target: Target,
  req: TargetConfigRequest,
  opts: TargetKconfigOptions = {},
): Promise<TargetConfigResult> {
  const tk = await openTargetKconfig(project, target, opts);
  const started = performance.now();
  const entries = await kraftfileEntries(project);
  const result0: { dropped: DroppedOption[] } = { dropped: [] };
  let config: Config;
  // Only a configuration made from the Kraftfile is compared with it (a user's later `set` is not a drop).
  const fromPlan = req.verb === "defconfig" || (!(req.verb in ALL) && !existsSync(tk.configFile));
  if (fromPlan) config = configureFromPlan(tk);
  else if (req.verb in ALL) config = allconfig(tk.tree, ALL[req.verb as keyof typeof ALL]);
  else config = currentConfig(tk);
  if (fromPlan) result0.dropped = droppedOptions(tk, config, config.dotconfig(), entries);
  const result: TargetConfigResult = {
    target: target.name,
    configFile: tk.configFile,
    dropped: result0.dropped,
    overrides: [],
    unmet: [],
    readWarnings: config.readWarnings,
    timingsMs: { parse: tk.parseMs, evaluate: 0 },
  };
  let output: string | undefined;
  if (req.verb === "why") {
    const sym = req.args?.[0];
    if (!sym) throw new KilnError("USAGE", "kiln config why needs a SYMBOL", { exitCode: 2 });
    const prov = provenance(tk, entries, sym);
    result.why = { ...why(config, sym), ...(prov ? { kraftfile: prov } : {}) };
  } else if (req.verb === "set" || req.verb === "unset") {
    const values = parseAssignments(req.verb, req.args ?? []);
    result.set = setValues(config, values);
    output = config.dotconfig();
    if (req.save) result.saved = await saveToKraftfile(tk, config, entries, values, result.set);
  } else if (req.verb === "savedefconfig") {
    const out = req.out ?? join(project.dir, `defconfig.${target.name}`);
    await writeFileAtomic(out, unikraftSavedefconfig(config.savedefconfig(), target, project.name));
    result.out = out;
  } else output = config.dotconfig();
  if (output !== undefined) {
    await writeDotConfig(tk.configFile, output);
    result.out = tk.configFile;
  }
  result.unmet = [...config.unmet.values()];
  result.timingsMs.evaluate = performance.now() - started;
  return result;
}

/** `SYM=VALUE` (set) or `SYM` (unset) arguments as setValues' map. */
export function parseAssignments(verb: "set" | "unset", args: string[]): Record<string, string | undefined> {
  const values: Record<string, string | undefined> = {};
  for (const a of args) {
    if (verb === "unset") values[a] = undefined;
    else {
      const eq = a.indexOf("=");
      if (eq <= 0) throw new KilnError("USAGE", `'${a}' is not SYMBOL=VALUE`, { exitCode: 2 });
      values[a.slice(0, eq)] = a.slice(eq + 1).replace(/^"(.*)"$/, "$1");
    }
  }
  if (Object.keys(values).length === 0)
    throw new KilnError("USAGE", `kiln config ${verb} needs at least one symbol`, { exitCode: 2 });
  return values;
}

/**
 * Writes applied values into the Kraftfile: an entry the Kraftfile already
 * sets for this target is changed where it is written (core, library or
 * target); a new one goes into the target's own `kconfig:`. Unset removes
 * the entry where it is written.
 */
export async function saveToKraftfile(
  tk: TargetKconfig,
  config: Config,
  entries: Awaited<ReturnType<typeof kraftfileEntries>>,
  values: Record<string, string | undefined>,
  report: SetReport,
): Promise<NonNullable<TargetConfigResult["saved"]>> {
  const applied = new Set(report.applied.map((a) => a.symbol.replace(/^CONFIG_/, "")));
  const index = tk.project.targets.indexOf(tk.target);
  const byScope = new Map<string, { scope: KconfigScope; values: Record<string, string | undefined> }>();
  for (const [raw, value] of Object.entries(values)) {
    const bare = raw.replace(/^CONFIG_/, "");
    if (value !== undefined && !applied.has(bare)) continue;
    const name = `CONFIG_${bare}`;
    const at = entryFor(tk, entries, name, tk.plan.origins[name]);
    const scope: KconfigScope = at?.scope ?? { kind: "target", index };
    if (value === undefined && !at) continue;
    const key = JSON.stringify(scope);
    const group = byScope.get(key) ?? { scope, values: {} };
    const s = config.tree.syms.get(bare);
    group.values[name] =
      value === undefined ? undefined : s?.type === "string" ? kconfigString(value) : value;
    byScope.set(key, group);
  }
  let text = readFileSync(tk.project.file, "utf8");
  const saved: NonNullable<TargetConfigResult["saved"]> = [];
  for (const { scope, values: v } of byScope.values()) {
    text = saveKconfigEntries(text, scope, v);
    saved.push({
      file: tk.project.file,
      scope:
        scope.kind === "target"
          ? `target ${tk.project.targets[scope.index]?.name}`
          : scope.kind === "library"
            ? `library ${scope.name}`
            : "core",
      entries: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x ?? null])),
    });
  }
  if (saved.length > 0) await writeFileAtomic(tk.project.file, text);
  return saved;
}

/**
 * What Unikraft's `make savedefconfig` writes: conf's minimal configuration,
 * then the architecture's symbol when it is the host's (conf leaves it out as
 * the default; the Makefile adds `$(call ukarch_str2cfg,…)=y` so the file
 * still says it) and `CONFIG_UK_NAME`. One deliberate difference: for a
 * target of another architecture the Makefile also appends the host's
 * symbol (savedefconfig reads no `.config`, so it compares the host with
 * itself), which would switch the architecture when the file is read back;
 * Kiln does not.
 */
export function unikraftSavedefconfig(
  minimal: string,
  target: Target,
  name: string,
  host = unikraftHostArch(),
): string {
  const archSym = { x86_64: "CONFIG_ARCH_X86_64", arm64: "CONFIG_ARCH_ARM_64", arm: "CONFIG_ARCH_ARM_32" }[
    target.architecture
  ];
  const arch = host === target.architecture ? `${archSym}=y\n` : "";
  return `${minimal}${arch}CONFIG_UK_NAME="${name}"\n`;
}
