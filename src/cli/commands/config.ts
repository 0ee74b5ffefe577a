/**
 * `kiln config VERB --srctree DIR|TARBALL --arch ARCH …`: Kconfig operations
 * on a Linux tree through Kiln's own engine (no make, no conf).
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { errnoText, KilnError, usageError } from "../../core/errors.js";
import { writeFileAtomic } from "../../core/fs.js";
import { formatWhy } from "../../kconfig/explain.js";
import { type ConfigVerb, loadLinuxKconfig, runLinuxConfig } from "../../kconfig/linux-config.js";
import { bool, type CommandDef, list, str } from "../command.js";
import { kraftfileOption } from "../project-options.js";

const VERBS: ConfigVerb[] = [
  "olddefconfig",
  "defconfig",
  "alldefconfig",
  "allnoconfig",
  "allyesconfig",
  "allmodconfig",
  "savedefconfig",
  "why",
  "set",
  "unset",
];

const command: CommandDef = {
  name: ["config"],
  summary:
    "Kconfig operations (olddefconfig, defconfig, all*config, savedefconfig, why, set, unset) on a Linux tree or a project target",
  usage:
    "config VERB [SYMBOL|SYM=VALUE …] (--srctree DIR|TARBALL --arch ARCH [--in FILE] [--fragment FILE …] [--out FILE] | [-t TARGET] [--save] [DIR]) [--json]",
  options: {
    target: {
      type: "string",
      short: "t",
      valueName: "TARGET",
      description: "a project target: work on its .config.<target> (the default without --srctree)",
    },
    kraftfile: kraftfileOption("the Kraftfile (default: found in DIR)"),
    save: {
      type: "boolean",
      description:
        "set/unset on a target: also write the entries into the Kraftfile's kconfig (comments kept)",
    },
    srctree: {
      type: "string",
      valueName: "DIR|TARBALL",
      description: "Linux source directory or tarball (e.g. /usr/src/linux-source-6.1.tar.xz)",
    },
    arch: { type: "string", valueName: "ARCH", description: "ARCH as make takes it (x86_64, arm64, …)" },
    in: {
      type: "string",
      valueName: "FILE",
      description: "input .config (defconfig: the defconfig file; all*config: KCONFIG_ALLCONFIG seed)",
    },
    fragment: {
      type: "string",
      multiple: true,
      valueName: "FILE",
      description: "config fragment merged as merge_config.sh does",
    },
    out: {
      type: "string",
      valueName: "FILE",
      description:
        "where to write (default: --in for olddefconfig/set/unset, else .config; savedefconfig: defconfig)",
    },
    "cross-compile": {
      type: "string",
      valueName: "PREFIX",
      description: "CROSS_COMPILE for the $(shell,…) compiler checks",
    },
    json: { type: "boolean", description: "print the report as JSON" },
  },
  details: [
    "VERB is one of: " + VERBS.join(", "),
    "Output files are byte-identical to what Linux's scripts/kconfig/conf writes for the same tree.",
    "With -t TARGET (or without --srctree) the verbs work on a Kraftfile project's target: its .config.<target>,",
    "the file kiln build configures (byte-identical to Unikraft's make defconfig); defconfig starts again from",
    "the Kraftfile; set/unset --save also write the Kraftfile's kconfig: where the entry is set, else the target's.",
  ].join("\n"),
  async run(ctx) {
    const [verbArg, ...args] = ctx.positionals;
    const verb = verbArg as ConfigVerb | undefined;
    if (!verb || !VERBS.includes(verb))
      throw usageError(`unknown config verb '${verbArg ?? ""}'`, `one of: ${VERBS.join(", ")}`);
    const srctree = str(ctx, "srctree");
    const arch = str(ctx, "arch");
    if (str(ctx, "target") !== undefined || (!srctree && !arch)) {
      const { runTargetConfigCommand } = await import("../config-target.js");
      return runTargetConfigCommand(ctx, verb, args);
    }
    if (!srctree || !arch) throw usageError("kiln config needs --srctree DIR|TARBALL and --arch ARCH");
    const inPath = str(ctx, "in");
    const readNamed = async (p: string) => {
      try {
        return { name: p, text: await readFile(resolve(ctx.cwd, p), "utf8") };
      } catch (e) {
        throw new KilnError("KCONFIG_INPUT", `cannot read ${p}: ${errnoText(e)}`, { cause: e });
      }
    };
    const input = inPath ? await readNamed(inPath) : undefined;
    const fragments = await Promise.all(list(ctx, "fragment").map(readNamed));
    const cross = str(ctx, "cross-compile");
    const { lt, tree, parseMs } = loadLinuxKconfig(
      resolve(ctx.cwd, srctree),
      arch,
      cross !== undefined ? { crossCompile: cross } : {},
    );
    const r = runLinuxConfig(lt, tree, { verb, input, fragments, args }, parseMs);
    const defaultOut =
      verb === "savedefconfig"
        ? "defconfig"
        : ["olddefconfig", "set", "unset"].includes(verb) && inPath
          ? inPath
          : ".config";
    const outPath = resolve(ctx.cwd, str(ctx, "out") ?? defaultOut);
    if (r.output !== undefined) await writeFileAtomic(outPath, r.output);
    for (const w of r.readWarnings) ctx.reporter.warn(w);
    for (const u of r.unmet) {
      ctx.reporter.warn(
        `unmet direct dependencies detected for ${u.symbol}: depends on [${u.dependsTri}]: ${u.dependsOn}; selected by: ${u.selectedBy.join(" || ")}`,
      );
    }
    for (const o of r.overrides)
      ctx.reporter.warn(
        `value of CONFIG_${o.symbol} is redefined by fragment ${o.fragment}: ${o.previous} → ${o.value}`,
      );
    for (const d of r.dropped) ctx.reporter.warn(`${d.requested} dropped: ${d.reason} (actual: ${d.actual})`);
    if (bool(ctx, "json")) {
      const { output: _o, ...rest } = r;
      ctx.out(
        `${JSON.stringify({ verb, out: r.output !== undefined ? outPath : undefined, ...rest }, null, 2)}\n`,
      );
      return r.set && r.set.refused.length > 0 ? 1 : undefined;
    }
    if (r.why) ctx.out(`${formatWhy(r.why).join("\n")}\n`);
    if (r.set) {
      for (const a of r.set.applied) ctx.out(`set ${a.symbol}=${a.value}\n`);
      for (const f of r.set.refused) ctx.out(`refused ${f.symbol}=${f.requested}: ${f.reason}\n`);
      for (const c of r.set.changes) ctx.out(`  changed ${c.symbol}: ${c.from} → ${c.to}\n`);
    }
    if (r.output !== undefined) ctx.reporter.info(`configuration written to ${outPath}`);
    return r.set && r.set.refused.length > 0 ? 1 : undefined;
  },
};

export default command;
