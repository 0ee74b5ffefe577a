/** `kiln logs [-f] NAME`: print a machine's console log; `-f` follows it until the machine exits. */

import { join } from "node:path";
import { usageError } from "../../core/errors.js";
import { followFile } from "../../machine/console.js";
import { getMachine } from "../../machine/launch.js";
import { instanceDir } from "../../machine/store.js";
import { INSTANCE_FILES } from "../../machine/supervise.js";
import { bool, type CommandDef } from "../command.js";

const command: CommandDef = {
  name: ["logs"],
  summary: "print a machine's console log",
  usage: "logs [-f] NAME",
  maxPositionals: 1,
  options: {
    follow: { type: "boolean", short: "f", description: "keep printing new output until the machine exits" },
  },
  async run(ctx) {
    const name = ctx.positionals[0];
    if (!name) throw usageError("kiln logs needs a machine name", "list machines with: kiln ps -a");
    let record = await getMachine(name, ctx.env);
    const log = join(instanceDir(name, ctx.env), INSTANCE_FILES.consoleLog);
    const f = followFile(log, (c) => ctx.out(c.toString("utf8")), { pollMs: 100 });
    while (bool(ctx, "follow") && record.state !== "exited" && !ctx.signal.aborted) {
      await new Promise((r) => setTimeout(r, 200));
      record = await getMachine(name, ctx.env);
    }
    await f.stop();
    return 0;
  },
};

export default command;
