/** `kiln rm [-f] NAME…`: remove machines (running ones only with `-f`, which stops them first). */
import { usageError } from "../../core/errors.js";
import { removeMachine } from "../../machine/launch.js";
import { bool, type CommandDef } from "../command.js";

const command: CommandDef = {
  name: ["rm"],
  summary: "remove machines",
  usage: "rm [-f] NAME...",
  options: { force: { type: "boolean", short: "f", description: "stop running machines first" } },
  async run(ctx) {
    if (ctx.positionals.length === 0)
      throw usageError("kiln rm needs a machine name", "list machines with: kiln ps -a");
    const json = bool(ctx, "json");
    for (const name of ctx.positionals) {
      await removeMachine(name, { force: bool(ctx, "force"), env: ctx.env });
      if (!json) ctx.out(`${name}\n`);
    }
    if (json) ctx.out(`${JSON.stringify({ ok: true, removed: ctx.positionals }, null, 2)}\n`);
    return 0;
  },
};

export default command;
