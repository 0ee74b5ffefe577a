/** `kiln restart [-t SECONDS] NAME…`: stop (power button, then force), then start again, detached. */
import { usageError } from "../../core/errors.js";
import { stopMachine } from "../../machine/launch.js";
import { startMachine } from "../../machine/lifecycle.js";
import type { MachineRecord } from "../../machine/store.js";
import { bool, type CommandDef, str } from "../command.js";

const command: CommandDef = {
  name: ["restart"],
  summary: "stop machines, then start them again",
  usage: "restart [-t SECONDS] NAME... [--json]",
  options: {
    time: {
      type: "string",
      short: "t",
      valueName: "SECONDS",
      description: "seconds to wait for the guest to power off (default 5)",
    },
    json: { type: "boolean", description: "print {ok, started: [machine records]}" },
  },
  async run(ctx) {
    if (ctx.positionals.length === 0)
      throw usageError("kiln restart needs a machine name", "list machines with: kiln ps -a");
    const secs = Number(str(ctx, "time") ?? "5");
    if (!(secs >= 0)) throw usageError(`-t must be a number of seconds; got "${str(ctx, "time")}"`);
    const started: MachineRecord[] = [];
    for (const name of ctx.positionals) {
      await stopMachine(name, { timeoutMs: secs * 1000, env: ctx.env, reason: "stopped by kiln restart" });
      started.push(await startMachine(name, { env: ctx.env, reporter: ctx.reporter }));
      if (!bool(ctx, "json")) ctx.out(`${name}\n`);
    }
    if (bool(ctx, "json")) ctx.out(`${JSON.stringify({ ok: true, started }, null, 2)}\n`);
    return 0;
  },
};

export default command;
