/**
 * `kiln clean [DIR] [-K FILE] [--proper]`: remove a project's build outputs
 * (`make clean` per target), or with `--proper` its whole build directory.
 */
import { cleanProject } from "../../unikraft/clean.js";
import { bool, type CommandDef } from "../command.js";
import { kraftfileOption, loadProjectFromArgs } from "../project-options.js";

const command: CommandDef = {
  name: ["clean"],
  summary: "remove a project's Unikraft build outputs",
  usage: "clean [DIR] [-K FILE] [--proper]",
  maxPositionals: 1,
  options: {
    kraftfile: kraftfileOption("the Kraftfile (default: found in DIR)"),
    proper: { type: "boolean", description: "remove the whole build directory (make properclean)" },
  },
  details: "Sources in .unikraft/ and the .config.<target> files are kept.",
  async run(ctx) {
    const { project } = await loadProjectFromArgs(ctx);
    const r = await cleanProject(project, {
      proper: bool(ctx, "proper"),
      reporter: ctx.reporter,
      env: ctx.env,
    });
    if (bool(ctx, "json")) {
      ctx.out(`${JSON.stringify({ ok: true, cleaned: r.cleaned, removed: r.removed }, null, 2)}\n`);
      return undefined;
    }
    for (const t of r.cleaned) ctx.out(`cleaned ${t}\n`);
    for (const d of r.removed) ctx.out(`removed ${d}\n`);
    if (r.cleaned.length === 0 && r.removed.length === 0) ctx.out("nothing to clean\n");
    return undefined;
  },
};

export default command;
