/**
 * Running Linux's make (kbuild): argv planning (pure), output parsing into
 * steps and compiler errors (pure), and the run itself with a log file and
 * progress. kbuild's quiet output prints one `  VERB    object` line per
 * step (scripts/Kbuild.include `quiet_cmd_*`), the format Unikraft's build
 * copied, so progress counts the same verbs; the percentage comes from the
 * step count of the previous full build of the same tree.
 */
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { KilnError } from "../core/errors.js";
import { exec, formatArgv, tail } from "../core/exec.js";
import type { Progress } from "../core/output.js";
import { ARCH_FACTS, type KernelArch } from "./types.js";

/** One make run on a kernel tree, built out of tree in `buildDir` (`O=`). */
export interface KernelMake {
  treeDir: string;
  buildDir: string;
  arch: KernelArch;
  /** Cross prefix (`CROSS_COMPILE=`), when not building for the host. */
  crossCompile?: string;
  /** `CC=ccache gcc` style compiler override (ccache). */
  cc?: string;
  jobs?: number;
  goals: string[];
  vars?: Record<string, string>;
}

/** The argv for one kernel make run (pure). */
export function planKernelMake(m: KernelMake): string[] {
  const argv = ["make", "-C", m.treeDir, `O=${m.buildDir}`, `ARCH=${ARCH_FACTS[m.arch].makeArch}`];
  if (m.crossCompile) argv.push(`CROSS_COMPILE=${m.crossCompile}`);
  if (m.cc) argv.push(`CC=${m.cc}`);
  for (const [k, v] of Object.entries(m.vars ?? {})) argv.push(`${k}=${v}`);
  if (m.jobs !== undefined && m.jobs > 0) argv.push(`-j${m.jobs}`);
  argv.push(...m.goals);
  return argv;
}

const COUNTED = new Set(["CC", "AS", "LD", "AR", "HOSTCC", "HOSTLD"]);

/** A kbuild step line (`  CC      kernel/fork.o`) → verb and object, else undefined (pure). */
export function parseStep(line: string): { verb: string; object: string } | undefined {
  const m = /^ {2}([A-Z][A-Z0-9_]{1,9}) +(\S.*)$/.exec(line);
  return m ? { verb: m[1]!, object: m[2]!.trim() } : undefined;
}

/** The first `max` distinct compiler/linker errors of a log, else make's own `***` lines (pure). */
export function firstCompilerErrors(log: string, max = 5): string[] {
  const errors: string[] = [];
  const makeErrors: string[] = [];
  for (const raw of log.split("\n")) {
    const line = raw.trim();
    if (
      /^\S[^:]*:\d+:(?:\d+:)? (?:fatal )?error: /.test(line) ||
      /undefined reference to|^ld: .*error/.test(line)
    ) {
      if (!errors.includes(line)) errors.push(line);
    } else if (/^make(\[\d+\])?: \*\*\*/.test(line) || /^\*\*\* /.test(line)) {
      makeErrors.push(line);
    }
  }
  return (errors.length > 0 ? errors : makeErrors).slice(0, max);
}

/** An append-only log for one build. */
export interface KernelLog {
  path: string;
  write(text: string): void;
  close(): Promise<void>;
}

/** Open (append to) the log of a kernel build. */
export async function openKernelLog(path: string): Promise<KernelLog> {
  await mkdir(dirname(path), { recursive: true });
  const stream = createWriteStream(path, { flags: "a" });
  return {
    path,
    write: (t) => {
      stream.write(t);
    },
    close: () => new Promise((resolve) => stream.end(resolve)),
  };
}

/** Options of one run. */
export interface RunKernelMakeOptions {
  log: KernelLog;
  progress?: Progress;
  /** Steps of the previous full build of this tree (for the percentage). */
  expectedSteps?: number;
  /** Shown after a step when there is no total (so a bare count is not read as progress to a known end). */
  noTotalNote?: string;
  env?: NodeJS.ProcessEnv;
  /** For errors, e.g. `building vmlinux`. */
  what: string;
}

/** Run make; throws KERNEL_BUILD_FAILED with the first compiler errors and the log's path. */
export async function runKernelMake(
  argv: string[],
  o: RunKernelMakeOptions,
): Promise<{ steps: number; durationMs: number }> {
  let steps = 0;
  let partial = "";
  let captured = "";
  const onLine = (line: string) => {
    const step = parseStep(line);
    if (!step) return;
    if (COUNTED.has(step.verb)) steps++;
    const total = o.expectedSteps && o.expectedSteps >= steps ? o.expectedSteps : undefined;
    const pct = total ? ` (${Math.floor((steps * 100) / total)}%)` : o.noTotalNote ? ` ${o.noTotalNote}` : "";
    o.progress?.update(`${step.verb} ${step.object}${pct}`, steps, total);
  };
  const onChunk = (c: Buffer, isStdout: boolean) => {
    const text = c.toString("utf8");
    o.log.write(text);
    captured += text;
    if (!isStdout) return;
    const lines = (partial + text).split("\n");
    partial = lines.pop() ?? "";
    for (const l of lines) onLine(l);
  };
  o.log.write(`$ ${formatArgv(argv)}\n`);
  const r = await exec(argv, {
    env: o.env,
    allowFailure: true,
    onStdout: (c) => onChunk(c, true),
    onStderr: (c) => onChunk(c, false),
  });
  if (partial) onLine(partial);
  if (r.exitCode === 0) return { steps, durationMs: r.durationMs };
  const errors = firstCompilerErrors(captured);
  const shown = errors.length > 0 ? errors : tail(captured, 10);
  const status = r.signal ? `was killed by ${r.signal}` : `exited with code ${r.exitCode}`;
  throw new KilnError("KERNEL_BUILD_FAILED", `${o.what} failed: make ${status}`, {
    details: [
      `command: ${formatArgv(argv)}`,
      errors.length > 0 ? "first errors:" : "last lines:",
      ...shown.map((l) => `  | ${l}`),
      `full log: ${o.log.path}`,
    ],
    hint: `read the full log: ${o.log.path}`,
  });
}
