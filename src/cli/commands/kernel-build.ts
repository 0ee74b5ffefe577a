/**
 * `kiln kernel build`: a Linux guest kernel (`vmlinux` on x86_64, `Image`
 * on arm64) from a source directory or tarball, with Kiln's microVM baseline
 * or a given `.config`, plus fragments; cached by content.
 */
import { readFile, stat } from "node:fs/promises";
import { errnoText, KilnError, usageError } from "../../core/errors.js";
import { kilnDirs } from "../../core/paths.js";
import { formatBytes, formatDuration } from "../../core/units.js";
import { buildKernel } from "../../kernel/build.js";
import {
  ARCH_FACTS,
  type ConfigBase,
  type Fragment,
  KERNEL_ARCHES,
  type KernelArch,
} from "../../kernel/types.js";
import { chosenConfigurator } from "../../orchestration/linux-project/kconfig-engine.js";
import { bool, type CommandDef, list, str } from "../command.js";

const optional = <K extends string, V>(k: K, v: V | undefined) =>
  v === undefined ? {} : ({ [k]: v } as Record<K, V>);

async function readInput(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw new KilnError("KERNEL_INPUT_UNREADABLE", `${what} ${path} cannot be read: ${errnoText(e)}`);
  }
}

const command: CommandDef = {
  name: ["kernel", "build"],
  summary: "build a Linux guest kernel (vmlinux/Image) from source with Kiln's microVM baseline or a .config",
  usage:
    "kernel build --source DIR|TARBALL [--arch x86_64|arm64] [--config FILE | --baseline] [--fragment FILE …] [-o OUT] [-j N]",
  maxPositionals: 0,
  options: {
    source: {
      type: "string",
      valueName: "DIR|TARBALL",
      description: "Linux source tree or tarball (e.g. /usr/src/linux-source-6.1.tar.xz)",
    },
    arch: {
      type: "string",
      valueName: "ARCH",
      description: "x86_64 (vmlinux) or arm64 (Image, cross-built); default x86_64",
    },
    config: {
      type: "string",
      valueName: "FILE",
      description: "a full .config to start from (completed by olddefconfig)",
    },
    baseline: {
      type: "boolean",
      description: "Kiln's microVM baseline on allnoconfig (the default without --config)",
    },
    fragment: {
      type: "string",
      multiple: true,
      valueName: "FILE",
      description: "Kconfig fragment applied on top, in order",
    },
    output: {
      type: "string",
      short: "o",
      valueName: "OUT",
      description: "where the kernel goes (default ./vmlinux or ./Image); its config is OUT.config",
    },
    jobs: { type: "string", short: "j", valueName: "N", description: "parallel make jobs (default: CPUs)" },
    json: { type: "boolean", description: "print the result as JSON" },
  },
  details: [
    "The configuration is merged as scripts/kconfig/merge_config.sh does (every override reported);",
    "a requested option that cannot be set stops the build, naming the option and its unmet dependencies.",
    "Results are cached by source digest, final .config, compiler identity and Kiln version; the build",
    "tree is kept per source and architecture, so a changed configuration rebuilds only what it touches.",
    "",
    "examples:",
    "  kiln kernel build --source /usr/src/linux-source-6.1.tar.xz -o vmlinux",
    "  kiln kernel build --source ~/linux --arch arm64 --fragment debug.config -o Image",
    "  kiln kernel build --source ~/linux --config microvm-kernel-ci-x86_64-6.1.config -o fc-vmlinux",
  ].join("\n"),
  async run(ctx) {
    const source = str(ctx, "source");
    if (!source) throw usageError("missing --source DIR|TARBALL", `usage: kiln ${command.usage}`);
    const archText = str(ctx, "arch") ?? "x86_64";
    if (!(KERNEL_ARCHES as readonly string[]).includes(archText)) {
      throw usageError(`--arch "${archText}" is not one of ${KERNEL_ARCHES.join(", ")}`);
    }
    const arch = archText as KernelArch;
    const configPath = str(ctx, "config");
    if (configPath && bool(ctx, "baseline")) throw usageError("--config and --baseline exclude each other");
    const base: ConfigBase = configPath
      ? { kind: "file", path: configPath, text: await readInput(configPath, "--config") }
      : { kind: "baseline" };
    const fragments: Fragment[] = [];
    for (const f of list(ctx, "fragment"))
      fragments.push({ path: f, text: await readInput(f, "--fragment") });
    const jobsText = str(ctx, "jobs");
    const jobs = jobsText === undefined ? undefined : Number(jobsText);
    if (jobs !== undefined && !(Number.isInteger(jobs) && jobs > 0)) {
      throw usageError(`-j "${jobsText}" is not a positive whole number`);
    }
    const out = str(ctx, "output") ?? ARCH_FACTS[arch].target;
    const r = await buildKernel({
      source,
      arch,
      base,
      fragments,
      out,
      ...(jobs ? { jobs } : {}),
      cacheDir: kilnDirs(ctx.env).cacheDir,
      env: ctx.env,
      reporter: ctx.reporter,
      ...optional("configurator", chosenConfigurator(ctx.env)),
    });
    const sizeBytes = (await stat(r.image)).size;
    if (bool(ctx, "json")) {
      ctx.out(`${JSON.stringify({ ...r, sizeBytes }, null, 2)}\n`);
    } else {
      ctx.out(
        `${r.image} (${formatBytes(sizeBytes)}, Linux ${r.version} ${arch}) ${r.cached ? "from the cache" : `built in ${formatDuration(r.durationMs)}`}\n` +
          `config: ${r.config}\nlog: ${r.logPath}\n`,
      );
    }
    return 0;
  },
};

export default command;
