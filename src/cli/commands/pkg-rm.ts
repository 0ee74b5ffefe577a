/** `kiln pkg rm REF…`: remove packages from the local store. */
import { usageError } from "../../core/errors.js";
import { packageStore } from "../../orchestration/package-run.js";
import { removePackage } from "../../pkg/manage.js";
import { bool, type CommandDef } from "../command.js";

const command: CommandDef = {
  name: ["pkg", "rm"],
  summary: "remove packages from the local store",
  usage: "pkg rm REF…",
  options: {},
  async run(ctx) {
    if (ctx.positionals.length === 0) throw usageError("missing REF", "usage: kiln pkg rm REF…");
    const store = packageStore(ctx.env);
    const removed: string[] = [];
    for (const ref of ctx.positionals) {
      await removePackage(store, ref);
      removed.push(ref);
      if (!bool(ctx, "json")) ctx.out(`${ref}\n`);
    }
    if (bool(ctx, "json")) ctx.out(`${JSON.stringify({ ok: true, removed }, null, 2)}\n`);
    return 0;
  },
};

export default command;
