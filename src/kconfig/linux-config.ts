/**
 * The `kiln config` verbs on a Linux source tree as one typed function:
 * open the tree (directory or tarball), parse it, run the operation, merge
 * fragments, and return the text to write with a report. Reading input
 * files is the caller's (the CLI's) job, so this stays testable.
 */
import { KilnError } from "../core/errors.js";
import { type WhyFacts, why } from "./explain.js";
import { type LinuxTree, type OpenLinuxOptions, openLinuxTree } from "./linux.js";
import { type DroppedValue, type MergeOverride, mergeFragments } from "./merge.js";
import { allconfig, type Config, defconfig, olddefconfig, type UnmetDependency } from "./ops.js";
import { parseKconfig } from "./parser.js";
import { type SetReport, setValues } from "./set.js";
import type { KconfigTree } from "./types.js";

/** The verbs of `kiln config`. */
export type ConfigVerb =
  | "olddefconfig"
  | "defconfig"
  | "alldefconfig"
  | "allnoconfig"
  | "allyesconfig"
  | "allmodconfig"
  | "savedefconfig"
  | "why"
  | "set"
  | "unset";

export interface LinuxConfigRequest {
  verb: ConfigVerb;
  /** Input `.config` (or defconfig / KCONFIG_ALLCONFIG seed) text and its name. */
  input?: { name: string; text: string };
  fragments?: { name: string; text: string }[];
  /** why: one symbol; set: `SYM=VALUE`; unset: `SYM`. */
  args?: string[];
}

export interface LinuxConfigResult {
  /** Text to write (`.config`, or savedefconfig's output); undefined for `why`. */
  output: string | undefined;
  why?: WhyFacts;
  set?: SetReport;
  overrides: MergeOverride[];
  dropped: DroppedValue[];
  unmet: UnmetDependency[];
  readWarnings: string[];
  parseWarnings: string[];
  timingsMs: { parse: number; evaluate: number };
}

/** KBUILD_DEFCONFIG of the architecture's Makefile (default `defconfig`), as a path in the tree. */
export function archDefconfigPath(lt: LinuxTree): string {
  if (lt.srcarch === "x86") return `arch/x86/configs/${lt.arch === "i386" ? "i386" : "x86_64"}_defconfig`;
  const mk = lt.host.readFile(`arch/${lt.srcarch}/Makefile`) ?? "";
  const m = /^KBUILD_DEFCONFIG\s*:?=\s*(\S+)\s*$/m.exec(mk);
  return `arch/${lt.srcarch}/configs/${m?.[1] ?? "defconfig"}`;
}

/** Opens and parses a Linux tree (the expensive part, reusable across requests). */
export function loadLinuxKconfig(
  srctree: string,
  arch: string,
  opts: OpenLinuxOptions = {},
): { lt: LinuxTree; tree: KconfigTree; parseMs: number } {
  const lt = openLinuxTree(srctree, arch, opts);
  const started = performance.now();
  let tree: KconfigTree;
  try {
    tree = parseKconfig("Kconfig", lt.host);
  } finally {
    lt.done();
  }
  return { lt, tree, parseMs: performance.now() - started };
}

/** Runs one `kiln config` verb on a parsed Linux tree. */
export function runLinuxConfig(
  lt: LinuxTree,
  tree: KconfigTree,
  req: LinuxConfigRequest,
  parseMs = 0,
): LinuxConfigResult {
  const started = performance.now();
  let config: Config;
  let overrides: MergeOverride[] = [];
  let dropped: DroppedValue[] = [];
  let output: string | undefined;
  const input = req.input;
  const frags = req.fragments ?? [];
  const allMode = {
    alldefconfig: "default",
    allnoconfig: "no",
    allyesconfig: "yes",
    allmodconfig: "mod",
  } as const;
  switch (req.verb) {
    case "defconfig": {
      const base = input ?? { name: archDefconfigPath(lt), text: readTreeFile(lt, archDefconfigPath(lt)) };
      if (frags.length) ({ config, overrides, dropped } = mergeFragments(tree, base, frags));
      else config = defconfig(tree, base.text, base.name);
      break;
    }
    case "alldefconfig":
    case "allnoconfig":
    case "allyesconfig":
    case "allmodconfig":
      if (frags.length && input)
        ({ config, overrides, dropped } = mergeFragments(tree, input, frags, {
          allno: req.verb === "allnoconfig",
        }));
      else config = allconfig(tree, allMode[req.verb], input?.text);
      break;
    default: {
      if (!input) {
        throw new KilnError("KCONFIG_NO_INPUT", `kiln config ${req.verb} needs an input .config (--in FILE)`);
      }
      if (frags.length) ({ config, overrides, dropped } = mergeFragments(tree, input, frags));
      else config = olddefconfig(tree, input.text);
    }
  }
  let whyFacts: WhyFacts | undefined;
  let setReport: SetReport | undefined;
  if (req.verb === "why") {
    const sym = req.args?.[0];
    if (!sym) throw new KilnError("USAGE", "kiln config why needs a SYMBOL", { exitCode: 2 });
    whyFacts = why(config, sym);
  } else if (req.verb === "set" || req.verb === "unset") {
    const values: Record<string, string | undefined> = {};
    for (const a of req.args ?? []) {
      if (req.verb === "unset") values[a] = undefined;
      else {
        const eq = a.indexOf("=");
        if (eq <= 0) throw new KilnError("USAGE", `'${a}' is not SYMBOL=VALUE`, { exitCode: 2 });
        values[a.slice(0, eq)] = a.slice(eq + 1).replace(/^"(.*)"$/, "$1");
      }
    }
    if (Object.keys(values).length === 0)
      throw new KilnError("USAGE", `kiln config ${req.verb} needs at least one symbol`, { exitCode: 2 });
    setReport = setValues(config, values);
    output = config.dotconfig();
  } else if (req.verb === "savedefconfig") {
    output = config.savedefconfig();
  } else {
    output = config.dotconfig();
  }
  return {
    output,
    why: whyFacts,
    set: setReport,
    overrides,
    dropped,
    unmet: [...config.unmet.values()],
    readWarnings: config.readWarnings,
    parseWarnings: tree.warnings,
    timingsMs: { parse: parseMs, evaluate: performance.now() - started },
  };
}

function readTreeFile(lt: LinuxTree, path: string): string {
  const t = lt.host.readFile(path);
  if (t === undefined)
    throw new KilnError("KCONFIG_NO_DEFCONFIG", `the tree has no ${path} for ARCH=${lt.arch}`);
  return t;
}
