/**
 * `kiln inspect [DIR] [-K FILE] [--json]`: print a project's normalized
 * form (every short form expanded), as aligned text or JSON.
 */
import { existsSync } from "node:fs";
import { KilnError } from "../../core/errors.js";
import { useColor } from "../../core/output.js";
import { formatDiagnostic } from "../../kraftfile/diagnostics.js";
import { failureDocument, invalidProjectError, type ReadProjectResult } from "../../kraftfile/load.js";
import { describeProject } from "../../kraftfile/summary.js";
import { formatMachine, inspectMachine } from "../../machine/describe.js";
import { bool, type CommandDef, str } from "../command.js";
import { kraftfileOption, projectDir, readProjectFromArgs } from "../project-options.js";

const command: CommandDef = {
  name: ["inspect"],
  summary: "print a project's normalized Kraftfile, or a machine's spec and state",
  usage: "inspect [DIR | MACHINE] [-K FILE] [--json]",
  maxPositionals: 1,
  options: {
    kraftfile: kraftfileOption(),
    json: {
      type: "boolean",
      description:
        "print the normalized project as JSON; on failure {ok: false, file, diagnostics} or {ok: false, error}",
    },
  },
  details: [
    "MACHINE (a name from kiln ps -a, when no such directory exists) shows that machine:",
    "its spec, state, VMM command line and files.",
    "DIR defaults to the current directory. Warnings go to stderr; a Kraftfile with errors",
    "prints them all and exits 1 (with --json, stdout still gets one JSON document:",
    "{ok: false, file, diagnostics}, or {ok: false, error: {code, message, hint}} when no",
    "Kraftfile can be read).",
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
    // A bare name (no `/`) may have meant a machine: say both were looked for.
    if (arg && !kf && !arg.includes("/") && !existsSync(dir)) {
      const error = new KilnError(
        "KRAFTFILE_NOT_FOUND",
        `project directory ${dir} does not exist, and no machine is named ${arg}`,
        {
          hint: "kiln ps -a lists machines; a project is a directory holding a Kraftfile",
        },
      );
      if (bool(ctx, "json")) ctx.out(`${JSON.stringify(failureDocument({ error }), null, 2)}\n`);
      throw error;
    }
    const color = useColor(process.stderr, ctx.env);
    const json = bool(ctx, "json");
    // With --json, a failure still prints one JSON document on stdout (scripts
    // parse it); the human-readable error goes to stderr and the exit code is 1.
    // Success keeps printing the bare project, as it always has.
    const printFailure = (doc: Record<string, unknown>) => {
      if (json) ctx.out(`${JSON.stringify(doc, null, 2)}\n`);
    };
    let r: ReadProjectResult;
    try {
      r = await readProjectFromArgs(ctx);
    } catch (e) {
      if (e instanceof KilnError) printFailure(failureDocument({ error: e }));
      throw e;
    }
    if (!r.project) {
      printFailure(failureDocument({ read: r }));
      throw invalidProjectError(r, { color });
    }
    // Warnings are already formatted with their location; print them whole on stderr.
    for (const d of r.diagnostics) ctx.reporter.info(formatDiagnostic(d, { color }));
    ctx.out(json ? `${JSON.stringify(r.project, null, 2)}\n` : `${describeProject(r.project)}\n`);
    return undefined;
  },
};

export default command;
