/**
 * `kiln logs [-f] [-t] [--since TIME] [-n N] [--json] NAME`: print a
 * machine's console log; `-f` follows it until the machine exits; `-n/--tail N`
 * starts at the last N lines, as `docker logs --tail`; `-t` and `--since` use
 * the line times the supervisor records (`machine/console-times.ts`).
 */

import { readFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { errnoCode, usageError } from "../../core/errors.js";
import { followFile } from "../../machine/console.js";
import {
  formatTimestamp,
  parseConsoleTimes,
  parseSince,
  type TimedLine,
  timeLines,
} from "../../machine/console-times.js";
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

async function readOrEmpty(path: string): Promise<Buffer> {
  return readFile(path).catch((e) => {
    if (errnoCode(e) === "ENOENT") return Buffer.alloc(0);
    throw e;
  });
}

/** The console log split into lines with their recorded times (see `machine/console-times.ts`). */
async function readTimedLog(dir: string): Promise<{ log: Buffer; lines: TimedLine[] }> {
  const logPath = join(dir, INSTANCE_FILES.consoleLog);
  const times = parseConsoleTimes((await readOrEmpty(join(dir, INSTANCE_FILES.consoleTimes))).toString());
  const log = await readOrEmpty(logPath);
  const mtimeMs = (await stat(logPath).catch(() => undefined))?.mtimeMs ?? Date.now();
  return { log, lines: timeLines(log, times, mtimeMs) };
}

/** Splits followed output into lines, prefixing each with its recorded time (or now) when `stamps`. */
function lineStamper(dir: string, firstLine: number, stamps: boolean, out: (text: string) => void) {
  let index = firstLine;
  let times: number[] = [];
  let pending = Buffer.alloc(0);
  const timeOf = (i: number): number => {
    if (i >= times.length) {
      try {
        times = parseConsoleTimes(readFileSync(join(dir, INSTANCE_FILES.consoleTimes), "utf8"));
      } catch {
        // none recorded
      }
    }
    return times[i] ?? Date.now();
  };
  const emit = (line: Buffer) => {
    const text = line.toString("utf8");
    out(stamps ? `${formatTimestamp(timeOf(index))} ${text}` : text);
    index++;
  };
  return {
    chunk(c: Buffer): void {
      pending = Buffer.concat([pending, c]);
      for (let nl = pending.indexOf(0x0a); nl !== -1; nl = pending.indexOf(0x0a)) {
        emit(pending.subarray(0, nl + 1));
        pending = pending.subarray(nl + 1);
      }
    },
    flush(): void {
      if (pending.length > 0) emit(pending);
      pending = Buffer.alloc(0);
    },
  };
}

const command: CommandDef = {
  name: ["logs"],
  summary: "print a machine's console log",
  usage: "logs [-f] [-t] [--since TIME] [-n N] [--json] NAME",
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
      description: "prefix each line with the time it was written (RFC 3339, as docker logs -t)",
    },
    since: {
      type: "string",
      valueName: "TIME",
      description: "only lines written since TIME: 10m, 1h30m, Unix seconds or RFC 3339 (docker's forms)",
    },
    json: {
      type: "boolean",
      description: "print {ok, name, state, console} (with -t also lines: [{time, text}]; not with -f)",
    },
  },
  async run(ctx) {
    const name = ctx.positionals[0];
    if (!name) throw usageError("kiln logs needs a machine name", "list machines with: kiln ps -a");
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
    const dir = instanceDir(name, ctx.env);
    const log = join(dir, INSTANCE_FILES.consoleLog);
    const stamps = bool(ctx, "timestamps");
    const sinceText = str(ctx, "since");
    if (stamps || sinceText !== undefined) {
      const sinceMs = sinceText === undefined ? undefined : parseSince(sinceText, Date.now());
      const timed = await readTimedLog(dir);
      let lines = sinceMs === undefined ? timed.lines : timed.lines.filter((l) => l.timeMs >= sinceMs);
      if (tail !== undefined) lines = tail === 0 ? [] : lines.slice(-tail);
      const text = (l: TimedLine) => timed.log.subarray(l.start, l.end).toString("utf8");
      if (json) {
        const doc = {
          ok: true,
          name,
          state: record.state,
          console: lines.map(text).join(""),
          ...(stamps
            ? { lines: lines.map((l) => ({ time: formatTimestamp(l.timeMs), text: text(l) })) }
            : {}),
        };
        ctx.out(`${JSON.stringify(doc, null, 2)}\n`);
        return 0;
      }
      for (const l of lines) ctx.out(stamps ? `${formatTimestamp(l.timeMs)} ${text(l)}` : text(l));
      if (!bool(ctx, "follow")) return 0;
      // Following: later lines get the time the follower recorded, or now when it has none yet.
      const stamper = lineStamper(dir, timed.lines.length, stamps, (t) => ctx.out(t));
      const f = followFile(log, stamper.chunk, { pollMs: 100, fromOffset: timed.log.length });
      while (record.state !== "exited" && record.state !== "created" && !ctx.signal.aborted) {
        await new Promise((r) => setTimeout(r, 200));
        record = await getMachine(name, ctx.env);
      }
      await f.stop();
      stamper.flush();
      return 0;
    }
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
    while (
      bool(ctx, "follow") &&
      record.state !== "exited" &&
      record.state !== "created" &&
      !ctx.signal.aborted
    ) {
      await new Promise((r) => setTimeout(r, 200));
      record = await getMachine(name, ctx.env);
    }
    await f.stop();
    return 0;
  },
};

export default command;
