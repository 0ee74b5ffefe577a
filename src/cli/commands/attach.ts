/**
 * `kiln attach NAME`: the console of a detached machine on this terminal,
 * with a foreground run's keys (Ctrl-C stops the machine, Ctrl-] c sends
 * Ctrl-C to the guest, Ctrl-] q stops it) plus docker's detach: Ctrl-] d
 * leaves it running. Output starts with the console's last lines.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { KilnError, usageError } from "../../core/errors.js";
import { runInForeground } from "../../machine/foreground.js";
import { getMachine } from "../../machine/launch.js";
import { instanceDir } from "../../machine/store.js";
import { INSTANCE_FILES } from "../../machine/supervise.js";
import { type CommandDef, str } from "../command.js";

/** How much of the console's past an attach shows first (as `docker attach` shows the current screen). */
const BACKLOG_BYTES = 2048;

const command: CommandDef = {
  name: ["attach"],
  summary: "attach this terminal to a detached machine's console (Ctrl-] d detaches)",
  usage: "attach NAME",
  maxPositionals: 1,
  options: {
    "detach-keys": {
      type: "string",
      valueName: "KEYS",
      description: "docker's option: only ctrl-],d is supported",
    },
  },
  details:
    "Keys: Ctrl-] d detaches (the machine keeps running); Ctrl-C or Ctrl-] q stops the machine;\nCtrl-] c sends Ctrl-C to the guest; Ctrl-] Ctrl-] sends Ctrl-].",
  async run(ctx) {
    const name = ctx.positionals[0];
    if (!name) throw usageError("kiln attach needs a machine name", "list machines with: kiln ps");
    const keys = str(ctx, "detach-keys");
    if (keys !== undefined && keys !== "ctrl-],d")
      throw usageError(`--detach-keys "${keys}": Kiln's detach keys are ctrl-],d`);
    const record = await getMachine(name, ctx.env);
    if (record.state !== "running") {
      throw new KilnError("MACHINE_NOT_RUNNING", `machine "${name}" is not running (${record.state})`, {
        hint: `start it with: kiln start ${name}, then attach`,
      });
    }
    const dir = instanceDir(name, ctx.env);
    const consoleLog = join(dir, INSTANCE_FILES.consoleLog);
    const size = (await stat(consoleLog).catch(() => ({ size: 0 }))).size;
    ctx.claimInterrupts();
    ctx.reporter.info(`kiln: attached to ${name}; Ctrl-] d detaches, Ctrl-C stops it`);
    return runInForeground(name, { consoleLog, consoleInput: join(dir, INSTANCE_FILES.consoleInput) }, ctx, {
      autoRemove: record.autoRemove,
      attach: { fromOffset: Math.max(0, size - BACKLOG_BYTES) },
    });
  },
};

export default command;
