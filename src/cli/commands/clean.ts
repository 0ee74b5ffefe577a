/**
 * `kiln clean [DIR] [-K FILE] [--proper]`: remove a project's build outputs
 * (`make clean` per target), or with `--proper` its whole build directory.
 */
import { resolve } from "node:path";
import { loadProject } from "../../kraftfile/index.js";
import { cleanProject } from "../../unikraft/clean.js";
import { bool, type CommandDef, str } from "../command.js";

const command: CommandDef = {
  name: ["clean"],
  summary: "remove a project's Unikraft build outputs",
  usage: "clean [DIR] [-K FILE] [--proper]",
  maxPositionals: 1,
  options: {
    kraftfile: {
      type: "string",
      short: "K",
      valueName: "FILE",
      description: "the Kraftfile (default: found in DIR)",
    },
    proper: { type: "boolean", description: "remove the whole build directory (make properclean)" },
  },
  details: "Sources in .unikraft/ and the .config.<target> files are kept.",
  async run(ctx) {
    const dir = resolve(ctx.cwd, ctx.positionals[0] ?? ".");
    const kf = str(ctx, "kraftfile");
    const { project } = await loadProject(dir, {
      ...(kf ? { kraftfile: resolve(ctx.cwd, kf) } : {}),
      env: ctx.env,
    });
    const r = await cleanProject(project, {
      proper: bool(ctx, "proper"),
      reporter: ctx.reporter,
      env: ctx.env,
    });
    for (const t of r.cleaned) ctx.out(`cleaned ${t}\n`);
    for (const d of r.removed) ctx.out(`removed ${d}\n`);
    if (r.cleaned.length === 0 && r.removed.length === 0) ctx.out("nothing to clean\n");
    return undefined;
  },
};

export default command;
