/**
 * `kiln kernel check CONFIG|KERNEL [--for MACHINE]`: the options a kernel
 * configuration lacks for a machine, why each is required and, with
 * `--source`, why the tree's Kconfig left it off.
 */
import { usageError } from "../../core/errors.js";
import {
  CHECK_TARGETS,
  type CheckTarget,
  checkConfig,
  configArch,
  readKernelConfig,
} from "../../kernel/check.js";
import { configValues } from "../../kernel/fragment.js";
import { checkKernelTree } from "../../kernel/source.js";
import { explainOff } from "../../kernel/why.js";
import { bool, type CommandDef, str } from "../command.js";

const command: CommandDef = {
  name: ["kernel", "check"],
  summary: "list the options a kernel configuration lacks for Firecracker, QEMU microvm or QEMU pc",
  usage: "kernel check CONFIG|KERNEL [--for firecracker|qemu-microvm|qemu-pc] [--source DIR] [--json]",
  maxPositionals: 1,
  options: {
    for: {
      type: "string",
      valueName: "MACHINE",
      description: "firecracker (default), qemu-microvm or qemu-pc",
    },
    source: {
      type: "string",
      valueName: "DIR",
      description: "the kernel tree, to say why each missing option is off",
    },
    json: { type: "boolean", description: "print the result as JSON" },
  },
  details: [
    "CONFIG|KERNEL is a .config, a kernel with its config beside it (/boot/vmlinuz-V → /boot/config-V,",
    "OUT → OUT.config as kiln kernel build writes it), or a vmlinux built with CONFIG_IKCONFIG.",
    "Exit status: 0 when nothing is missing, 1 otherwise.",
    "",
    "examples:",
    "  kiln kernel check /boot/vmlinuz-$(uname -r) --for qemu-microvm",
    "  kiln kernel check vmlinux --for firecracker",
  ].join("\n"),
  async run(ctx) {
    const path = ctx.positionals[0];
    if (!path) throw usageError("missing CONFIG|KERNEL", `usage: kiln ${command.usage}`);
    const forText = str(ctx, "for") ?? "firecracker";
    if (!(CHECK_TARGETS as readonly string[]).includes(forText)) {
      throw usageError(`--for "${forText}" is not one of ${CHECK_TARGETS.join(", ")}`);
    }
    const target = forText as CheckTarget;
    const { text, from } = await readKernelConfig(path);
    const arch = configArch(text) ?? "x86_64";
    const missing = checkConfig(text, target, arch);
    const tree = str(ctx, "source");
    let why = new Map<string, string>();
    if (tree && missing.length > 0) {
      await checkKernelTree(tree, tree);
      why = await explainOff(
        tree,
        missing.flatMap((m) => m.options),
        configValues(text),
        arch,
      );
    }
    if (bool(ctx, "json")) {
      const rows = missing.map((m) => ({
        ...m,
        off: Object.fromEntries(m.options.map((o) => [o, why.get(o)])),
      }));
      ctx.out(
        `${JSON.stringify({ config: from, arch, for: target, ok: missing.length === 0, missing: rows }, null, 2)}\n`,
      );
      return missing.length === 0 ? 0 : 1;
    }
    if (missing.length === 0) {
      ctx.out(`${from}: has every option ${target} needs (${arch})\n`);
      return 0;
    }
    const lines = [
      `${from}: ${missing.length} requirement${missing.length === 1 ? "" : "s"} of ${target} (${arch}) not met:`,
    ];
    for (const m of missing) {
      const now = m.options.map((o) => `CONFIG_${o}=${m.actual[o]}`).join(" / ");
      lines.push(
        `  ${m.options.map((o) => `CONFIG_${o}`).join(" or ")}: needs ${m.accept.join(" or ")}, is ${now}: ${m.why}`,
      );
      for (const o of m.options)
        if (why.has(o)) lines.push(`    why CONFIG_${o}=${m.actual[o]}: ${why.get(o)}`);
    }
    ctx.out(`${lines.join("\n")}\n`);
    return 1;
  },
};

export default command;
