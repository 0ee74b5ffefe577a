/**
 * `kiln validate [DIR] [-K FILE] [--json]`: report every problem in a
 * project's Kraftfile; exit 1 when there are errors.
 */

import { ExitCode, KilnError } from "../../core/errors.js";
import { useColor } from "../../core/output.js";
import { countSummary, formatDiagnostic } from "../../kraftfile/diagnostics.js";
import { failureDocument, type ReadProjectResult } from "../../kraftfile/load.js";
import { bool, type CommandDef } from "../command.js";
import { kraftfileOption, readProjectFromArgs } from "../project-options.js";

const command: CommandDef = {
  name: ["validate"],
  summary: "check a project's Kraftfile and report all problems",
  usage: "validate [DIR] [-K FILE] [--json]",
  maxPositionals: 1,
  options: {
    kraftfile: kraftfileOption(),
    json: {
      type: "boolean",
      description:
        "print {file, ok, errors, warnings, diagnostics} as JSON; {ok: false, error: {code, message, hint}} when no Kraftfile can be read",
    },
  },
  details: [
    "DIR defaults to the current directory; Kiln looks for Kraftfile, Kraftfile.yaml,",
    "Kraftfile.yml, kraft.yaml and kraft.yml there. Exit status 1 when there are errors.",
    "",
    "examples:",
    "  kiln validate examples/helloworld",
    "  kiln validate -K path/to/kraft.yaml --json",
  ].join("\n"),
  async run(ctx) {
    let r: ReadProjectResult;
    try {
      r = await readProjectFromArgs(ctx);
    } catch (e) {
      // Scripts get one JSON document on stdout even now; people still read stderr.
      if (e instanceof KilnError && bool(ctx, "json"))
        ctx.out(`${JSON.stringify(failureDocument({ error: e }), null, 2)}\n`);
      throw e;
    }
    const errors = r.diagnostics.filter((d) => d.severity === "error").length;
    const warnings = r.diagnostics.length - errors;
    if (bool(ctx, "json")) {
      ctx.out(
        `${JSON.stringify(
          {
            file: r.file,
            ok: errors === 0,
            errors,
            warnings,
            ...(r.project
              ? { specification: r.project.specification, targets: r.project.targets.map((t) => t.name) }
              : {}),
            diagnostics: r.diagnostics,
          },
          null,
          2,
        )}\n`,
      );
    } else {
      const color = useColor(process.stdout, ctx.env);
      for (const d of r.diagnostics) ctx.out(`${formatDiagnostic(d, { color })}\n`);
      if (r.project) {
        const n = r.project.targets.length;
        const w = warnings ? `, ${countSummary(r.diagnostics)}` : "";
        ctx.out(`ok: ${r.file} (spec v${r.project.specification}, ${n} target${n === 1 ? "" : "s"}${w})\n`);
      } else {
        ctx.out(`${r.file}: ${countSummary(r.diagnostics)}\n`);
      }
    }
    return errors ? ExitCode.error : ExitCode.ok;
  },
};

export default command;
