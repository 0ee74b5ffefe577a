/**
 * `kiln logs [-f] [-n N] [--json] NAME`: print a machine's console log; `-f`
 * follows it until the machine exits; `-n/--tail N` starts at the last N
 * lines, as `docker logs --tail`.
 */

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { errnoCode, usageError } from "../../core/errors.js";
import { followFile } from "../../machine/console.js";
import { getMachine } from "../../machine/launch.js";
import { instanceDir } from "../../machine/store.js";
import { INSTANCE_FILES } from "../../machine/supervise.js";
import { bool, type CommandDef, str } from "../command.js";

/** The byte offset where the last `n` lines of `log` start (pure); a last line without "\n" counts. */
export function tailOffset(log: Buffer, n: number): number {
  if (n <= 0) return log.length;
  let end = log.length;
  if (end > 0 && log[end - 1] === 0x0a) end--;
  let seen = 0;
  for (let i = end - 1; i >= 0; i--) {
    if (log[i] === 0x0a && ++seen === n) return i + 1;
  }
  return 0;
}

const command: CommandDef = {
  name: ["logs"],
  summary: "print a machine's console log",
  usage: "logs [-f] [-n N] [--json] NAME",
  maxPositionals: 1,
  options: {
    follow: { type: "boolean", short: "f", description: "keep printing new output until the machine exits" },
    tail: {
      type: "string",
      short: "n",
      valueName: "N",
      description: "only the last N lines (docker's --tail; 'all' for everything)",
    },
    timestamps: {
      type: "boolean",
      short: "t",
      description: "docker's -t: not available (the VMM writes the console log without times)",
    },
    since: { type: "string", valueName: "TIME", description: "docker's --since: not available (see -t)" },
    json: { type: "boolean", description: "print {ok, name, state, console} (not with -f)" },
  },
  async run(ctx) {
    const name = ctx.positionals[0];
    if (!name) throw usageError("kiln logs needs a machine name", "list machines with: kiln ps -a");
    if (bool(ctx, "timestamps") || str(ctx, "since") !== undefined) {
      throw usageError(
        `kiln logs ${bool(ctx, "timestamps") ? "-t" : "--since"} is not available: QEMU writes the console log itself, with no time per line`,
        "use -n N for the last lines, or -f to follow from now",
      );
    }
    const tailText = str(ctx, "tail");
    let tail: number | undefined;
    if (tailText !== undefined && tailText !== "all") {
      tail = Number(tailText);
      if (!Number.isInteger(tail) || tail < 0) {
        throw usageError(`--tail must be a number of lines or "all"; got "${tailText}"`);
      }
    }
    const json = bool(ctx, "json");
    if (json && bool(ctx, "follow")) throw usageError("--json prints the log once; it cannot --follow");
    let record = await getMachine(name, ctx.env);
    const log = join(instanceDir(name, ctx.env), INSTANCE_FILES.consoleLog);
    let fromOffset = 0;
    if (tail !== undefined || json) {
      const text = await readFile(log).catch((e) => {
        if (errnoCode(e) === "ENOENT") return Buffer.alloc(0);
        throw e;
      });
      fromOffset = tail === undefined ? 0 : tailOffset(text, tail);
      if (json) {
        const doc = {
          ok: true,
          name,
          state: record.state,
          console: text.subarray(fromOffset).toString("utf8"),
        };
        ctx.out(`${JSON.stringify(doc, null, 2)}\n`);
        return 0;
      }
    }
    const f = followFile(log, (c) => ctx.out(c.toString("utf8")), { pollMs: 100, fromOffset });
    while (bool(ctx, "follow") && record.state !== "exited" && !ctx.signal.aborted) {
      await new Promise((r) => setTimeout(r, 200));
      record = await getMachine(name, ctx.env);
    }
    await f.stop();
    return 0;
  },
};

export default command;
