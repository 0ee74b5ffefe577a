/**
 * `kiln inspect [DIR] [-K FILE] [--json]`: print a project's normalized
 * form (every short form expanded), as aligned text or JSON.
 */
import { existsSync } from "node:fs";
import { useColor } from "../../core/output.js";
import { formatDiagnostic } from "../../kraftfile/diagnostics.js";
import { describeProject } from "../../kraftfile/summary.js";
import { formatMachine, inspectMachine } from "../../machine/describe.js";
import { bool, type CommandDef, str } from "../command.js";
import { kraftfileOption, loadProjectFromArgs, projectDir } from "../project-options.js";

const command: CommandDef = {
  name: ["inspect"],
  summary: "print a project's normalized Kraftfile (targets, sources, versions)",
  usage: "inspect [DIR] [-K FILE] [--json]",
  maxPositionals: 1,
  options: {
    kraftfile: kraftfileOption(),
    json: { type: "boolean", description: "print the normalized project as JSON" },
  },
  details: [
    "DIR defaults to the current directory. Warnings go to stderr; a Kraftfile with errors",
    "prints them all and exits 1.",
    "",
    "examples:",
    "  kiln inspect examples/helloworld",
    "  kiln inspect --json | jq '.targets[].name'",
  ].join("\n"),
  async run(ctx) {
    const dir = projectDir(ctx);
    const kf = str(ctx, "kraftfile");
    // `kiln inspect NAME`: an argument that is not a path but names a machine shows the machine.
    const arg = ctx.positionals[0];
    const machine = arg && !kf && !existsSync(dir) ? await inspectMachine(arg, ctx.env) : undefined;
    if (machine) {
      ctx.out(bool(ctx, "json") ? `${JSON.stringify(machine, null, 2)}\n` : `${formatMachine(machine)}\n`);
      return undefined;
    }
    const color = useColor(process.stderr, ctx.env);
    const { project, diagnostics } = await loadProjectFromArgs(ctx, { color });
    // Warnings are already formatted with their location; print them whole on stderr.
    for (const d of diagnostics) ctx.reporter.info(formatDiagnostic(d, { color }));
    ctx.out(bool(ctx, "json") ? `${JSON.stringify(project, null, 2)}\n` : `${describeProject(project)}\n`);
    return undefined;
  },
};

export default command;
