/** `kiln start NAME…`: start exited machines again, detached (docker's `start`). */
import { usageError } from "../../core/errors.js";
import { startMachine } from "../../machine/lifecycle.js";
import type { MachineRecord } from "../../machine/store.js";
import { bool, type CommandDef } from "../command.js";

const command: CommandDef = {
  name: ["start"],
  summary: "start created or exited machines (same kernel, disks and settings), detached",
  usage: "start NAME... [--json]",
  options: { json: { type: "boolean", description: "print {ok, started: [machine records]}" } },
  details:
    "The console log continues where the last run left it (kiln logs NAME); attach with kiln attach NAME.",
  async run(ctx) {
    if (ctx.positionals.length === 0)
      throw usageError("kiln start needs a machine name", "list machines with: kiln ps -a");
    const started: MachineRecord[] = [];
    for (const name of ctx.positionals) {
      started.push(await startMachine(name, { env: ctx.env, reporter: ctx.reporter }));
      if (!bool(ctx, "json")) ctx.out(`${name}\n`);
    }
    if (bool(ctx, "json")) ctx.out(`${JSON.stringify({ ok: true, started }, null, 2)}\n`);
    return 0;
  },
};

export default command;
