/** `kiln stop [-t SECONDS] NAME…`: ACPI power-down over QMP, then quit after the timeout, then SIGKILL. */
import { usageError } from "../../core/errors.js";
import { stopMachine } from "../../machine/launch.js";
import type { MachineRecord } from "../../machine/store.js";
import { bool, type CommandDef, str } from "../command.js";

const command: CommandDef = {
  name: ["stop"],
  summary: "stop machines (power button, then force after a timeout)",
  usage: "stop [-t SECONDS] NAME...",
  options: {
    time: {
      type: "string",
      short: "t",
      valueName: "SECONDS",
      description: "seconds to wait for the guest to power off (default 5)",
    },
  },
  async run(ctx) {
    if (ctx.positionals.length === 0)
      throw usageError("kiln stop needs a machine name", "list machines with: kiln ps");
    const secs = Number(str(ctx, "time") ?? "5");
    if (!(secs >= 0)) throw usageError(`-t must be a number of seconds; got "${str(ctx, "time")}"`);
    const results = await Promise.allSettled(
      ctx.positionals.map((n) => stopMachine(n, { timeoutMs: secs * 1000, env: ctx.env })),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (bool(ctx, "json")) {
      if (failed) throw failed.reason;
      const stopped = results.map((r) => (r as PromiseFulfilledResult<MachineRecord>).value);
      ctx.out(`${JSON.stringify({ ok: true, stopped }, null, 2)}\n`);
      return 0;
    }
    results.forEach((r, i) => {
      if (r.status === "fulfilled") ctx.out(`${ctx.positionals[i]}\n`);
    });
    if (failed) throw failed.reason;
    return 0;
  },
};

export default command;
