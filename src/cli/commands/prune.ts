/** `kiln prune [-f]`: remove every exited machine (docker's `container prune`). */
import { pruneMachines } from "../../machine/lifecycle.js";
import { bool, type CommandDef } from "../command.js";

const command: CommandDef = {
  name: ["prune"],
  summary: "remove every exited (or never started) machine",
  usage: "prune [-f] [--json]",
  maxPositionals: 0,
  options: {
    force: {
      type: "boolean",
      short: "f",
      description: "accepted for docker's muscle memory; Kiln never asks",
    },
    json: { type: "boolean", description: "print {ok, removed: [names]}" },
  },
  details: "Running machines are left alone. Prints the names removed.",
  async run(ctx) {
    const removed = await pruneMachines(ctx.env);
    if (bool(ctx, "json")) ctx.out(`${JSON.stringify({ ok: true, removed }, null, 2)}\n`);
    else ctx.out(removed.map((n) => `${n}\n`).join(""));
    return 0;
  },
};

export default command;
