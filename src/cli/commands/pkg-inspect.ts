/** `kiln pkg inspect REF [--json]`: index, manifests, configs, annotations and sizes of a stored package. */
import { usageError } from "../../core/errors.js";
import { formatBytes } from "../../core/units.js";
import { packageStore } from "../../orchestration/package-run.js";
import { inspectPackage } from "../../pkg/manage.js";
import { bool, type CommandDef } from "../command.js";

const command: CommandDef = {
  name: ["pkg", "inspect"],
  summary: "show a stored package's index, manifests, config and annotations",
  usage: "pkg inspect REF [--json]",
  maxPositionals: 1,
  options: { json: { type: "boolean", description: "print the documents as JSON" } },
  async run(ctx) {
    const ref = ctx.positionals[0];
    if (ref === undefined) throw usageError("missing REF", "usage: kiln pkg inspect REF");
    const i = await inspectPackage(packageStore(ctx.env), ref);
    if (bool(ctx, "json")) {
      ctx.out(`${JSON.stringify(i, null, 2)}\n`);
      return 0;
    }
    const lines: string[] = [`reference  ${i.ref}`];
    if (i.index) {
      lines.push(`index      ${i.index.descriptor.digest} (${formatBytes(i.index.descriptor.size ?? 0)})`);
      for (const [k, v] of Object.entries(
        (i.index.document as { annotations?: Record<string, string> }).annotations ?? {},
      ))
        lines.push(`  ${k}: ${v}`);
    }
    for (const m of i.manifests) {
      lines.push(
        "",
        `manifest   ${m.descriptor.digest} ${m.config.os ?? "?"}/${m.config.architecture ?? "?"}${m.present ? "" : " (not pulled)"}`,
      );
      if (!m.present) continue;
      if (m.config["os.version"]) lines.push(`  os.version   ${m.config["os.version"]}`);
      if (m.config["os.features"]) lines.push(`  os.features  ${m.config["os.features"].length} entries`);
      if (m.config.config?.Cmd) lines.push(`  cmd          ${JSON.stringify(m.config.config.Cmd)}`);
      if (m.config.config?.Env) lines.push(`  env          ${JSON.stringify(m.config.config.Env)}`);
      lines.push("  annotations:");
      for (const [k, v] of Object.entries(m.manifest.annotations ?? {})) lines.push(`    ${k}: ${v}`);
      lines.push("  layers:");
      for (const l of m.manifest.layers) {
        const a = Object.entries(l.annotations ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(" ");
        lines.push(
          `    ${l.digest} ${formatBytes(l.size ?? 0).padStart(9)} ${l.mediaType ?? ""}${a ? ` ${a}` : ""}`,
        );
      }
    }
    ctx.out(`${lines.join("\n")}\n`);
    return 0;
  },
};

export default command;
