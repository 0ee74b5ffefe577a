/** `kiln wait NAME…`: block until machines exit; print each exit status (docker's `wait`). */
import { usageError } from "../../core/errors.js";
import { waitMachine } from "../../machine/lifecycle.js";
import type { MachineRecord } from "../../machine/store.js";
import { bool, type CommandDef } from "../command.js";

const command: CommandDef = {
  name: ["wait"],
  summary: "wait for machines to exit; print their exit statuses",
  usage: "wait NAME... [--json]",
  options: { json: { type: "boolean", description: "print {ok, machines: [{name, exitCode, reason}]}" } },
  details: "Prints one exit status per machine, in order; kiln wait itself exits 0 (as docker wait).",
  async run(ctx) {
    if (ctx.positionals.length === 0)
      throw usageError("kiln wait needs a machine name", "list machines with: kiln ps");
    const done: MachineRecord[] = [];
    for (const name of ctx.positionals) {
      const r = await waitMachine(name, { env: ctx.env, signal: ctx.signal });
      done.push(r);
      if (!bool(ctx, "json")) ctx.out(`${r.exitCode ?? ""}\n`);
    }
    if (bool(ctx, "json")) {
      const machines = done.map((r) => ({
        name: r.name,
        exitCode: r.exitCode ?? null,
        reason: r.reason ?? null,
      }));
      ctx.out(`${JSON.stringify({ ok: true, machines }, null, 2)}\n`);
    }
    return 0;
  },
};

export default command;
