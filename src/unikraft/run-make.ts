/**
 * Running Unikraft's make: the full output goes to a log file, steps become
 * progress (compiled/total), and a failure reports the first compiler errors
 * and where the log is rather than the last lines make printed (which are
 * only `make[1]: *** Error 1` noise).
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { KilnError } from "../core/errors.js";
import { exec, formatArgv, tail } from "../core/exec.js";
import type { Progress } from "../core/output.js";
import { firstErrors, isCountedStep, parseMakeLine } from "./make.js";

/** An append-only build log shared by the make runs of one target. */
export interface BuildLog {
  path: string;
  write(text: string): void;
  close(): Promise<void>;
}

/** Open (truncate) a build log file. */
export async function openBuildLog(path: string): Promise<BuildLog> {
  await mkdir(dirname(path), { recursive: true });
  const stream: WriteStream = createWriteStream(path, { flags: "w" });
  return {
    path,
    write: (t) => {
      stream.write(t);
    },
    close: () => new Promise((resolve) => stream.end(resolve)),
  };
}

export interface RunMakeOptions {
  log: BuildLog;
  /** Receives `step object` with compiled/total counts. */
  progress?: Progress;
  /** Expected number of counted steps (from the previous build), for the total. */
  expectedSteps?: number;
  /**
   * Appended to each step's progress when there is no total to show, so
   * the bare count is not mistaken for progress towards a known end (e.g.
   * `(first build: total unknown)`).
   */
  noTotalNote?: string;
  env?: NodeJS.ProcessEnv;
  /** What the user should read about this step in errors, e.g. `configure helloworld_qemu-x86_64`. */
  what: string;
}

export interface RunMakeResult {
  /** Counted steps (compile, assemble, link) make performed. */
  steps: number;
  durationMs: number;
}

/** Run one make invocation; throws `BUILD_FAILED` with the first errors and the log path. */
export async function runMake(argv: string[], opts: RunMakeOptions): Promise<RunMakeResult> {
  let steps = 0;
  let partial = "";
  let captured = "";
  const onLine = (line: string) => {
    const ev = parseMakeLine(line);
    if (ev?.kind !== "step") return;
    if (isCountedStep(ev.verb)) steps++;
    const total = opts.expectedSteps && opts.expectedSteps >= steps ? opts.expectedSteps : undefined;
    const note = total === undefined && opts.noTotalNote ? ` ${opts.noTotalNote}` : "";
    opts.progress?.update(`${ev.verb} ${ev.object}${note}`, steps, total);
  };
  // stdout and stderr interleave in the log as make wrote them; lines are
  // split on stdout only (step lines), stderr goes through whole.
  const onChunk = (c: Buffer, isStdout: boolean) => {
    const text = c.toString("utf8");
    opts.log.write(text);
    captured += text;
    if (!isStdout) return;
    const lines = (partial + text).split("\n");
    partial = lines.pop() ?? "";
    for (const l of lines) onLine(l);
  };
  opts.log.write(`$ ${formatArgv(argv)}\n`);
  const r = await exec(argv, {
    env: opts.env,
    allowFailure: true,
    onStdout: (c) => onChunk(c, true),
    onStderr: (c) => onChunk(c, false),
  });
  if (partial) onLine(partial);
  if (r.exitCode === 0) return { steps, durationMs: r.durationMs };
  const errors = firstErrors(captured);
  const shown = errors.length > 0 ? errors : tail(captured, 10);
  const status = r.signal ? `was killed by ${r.signal}` : `exited with code ${r.exitCode}`;
  throw new KilnError("BUILD_FAILED", `${opts.what} failed: make ${status}`, {
    details: [
      `command: ${formatArgv(argv)}`,
      ...(errors.length > 0 ? ["first errors:"] : ["last lines:"]),
      ...shown.map((l) => `  | ${l}`),
      `full log: ${opts.log.path}`,
    ],
    hint: `read the full log: ${opts.log.path}`,
  });
}
