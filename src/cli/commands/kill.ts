/** `kiln kill [-s SIGNAL] NAME…`: signal machines' VMMs, SIGKILL by default (docker's `kill`). */
import { usageError } from "../../core/errors.js";
import { killMachine, parseSignal } from "../../machine/lifecycle.js";
import { bool, type CommandDef, str } from "../command.js";

const command: CommandDef = {
  name: ["kill"],
  summary: "send a signal to machines' VMMs (default SIGKILL)",
  usage: "kill [-s SIGNAL] NAME... [--json]",
  options: {
    signal: {
      type: "string",
      short: "s",
      valueName: "SIGNAL",
      description: "signal name or number (KILL, TERM, 9; default KILL)",
    },
    json: { type: "boolean", description: "print {ok, killed: [names], signal}" },
  },
  details: "The guest gets no chance to shut down; kiln stop asks it first.",
  async run(ctx) {
    if (ctx.positionals.length === 0)
      throw usageError("kiln kill needs a machine name", "list machines with: kiln ps");
    const signal = parseSignal(str(ctx, "signal") ?? "KILL");
    for (const name of ctx.positionals) {
      await killMachine(name, signal, ctx.env);
      if (!bool(ctx, "json")) ctx.out(`${name}\n`);
    }
    if (bool(ctx, "json"))
      ctx.out(`${JSON.stringify({ ok: true, killed: ctx.positionals, signal }, null, 2)}\n`);
    return 0;
  },
};

export default command;
