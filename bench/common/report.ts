/**
 * The contract between a benchmark (`bench/<name>/run.ts`) and the table
 * runner (`bench/table.ts`, `npm run bench`): a benchmark prints, among its
 * own lines, one line per measurement of the form
 *
 *     BENCH {"work": "...", "reference": "...", "refS": 1.2, "kilnS": 1.3, ...}
 *
 * (the fields of {@link BenchRow}), or `BENCH {"work": "...", "skip": "why"}`
 * when it cannot run here. See bench/README.md.
 */
import { spawnSync } from "node:child_process";

/** One row of the table. Times are wall-clock seconds, medians unless `note` says otherwise. */
export interface BenchRow {
  /** What was measured, e.g. "ext4 from a 20,000-file tree". */
  work: string;
  /** The reference tool or command line, e.g. "mkfs.ext4 -d". */
  reference?: string;
  refS?: number;
  kilnS?: number;
  /** kilnS / refS (computed when both are given and this is not). */
  ratio?: number;
  /** The target as text, e.g. "≤ 1.1×" or "≤ 0.2 s". */
  target?: string;
  /** Whether the target is met (the benchmark knows what its target measures). */
  met?: boolean;
  /** Kiln's peak resident memory (MiB). */
  peakMiB?: number;
  /** How the numbers were taken, e.g. "median of 5 interleaved pairs". */
  note?: string;
  /** Set instead of the times when the benchmark cannot run here: the reason. */
  skip?: string;
}

/** Print one row for the table runner (and a human reading the output). */
export function report(row: BenchRow): void {
  const r = { ...row };
  if (r.ratio === undefined && r.refS !== undefined && r.kilnS !== undefined && r.refS > 0)
    r.ratio = r.kilnS / r.refS;
  console.log(`BENCH ${JSON.stringify(r)}`);
}

/** Wall time, CPU time and peak RSS of one command run. */
export interface Timed {
  wallS: number;
  /** User + system CPU seconds of the command and its children (less sensitive to others' load). */
  cpuS: number;
  maxRssMiB: number;
  stdout: string;
}

/**
 * Run argv under GNU time (`%e` wall seconds, `%U`/`%S` user/system CPU
 * seconds and `%M` peak RSS in KiB of the command and the children it
 * waited for); throws with stderr on failure.
 */
export function timed(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Timed {
  const r = spawnSync("/usr/bin/time", ["-f", "TIME %e %U %S %M", ...argv], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(r.stderr ?? "");
  if (r.status !== 0 || !m) throw new Error(`${argv.join(" ")} failed (${r.status}):\n${r.stderr}`);
  return {
    wallS: Number(m[1]),
    cpuS: Number(m[2]) + Number(m[3]),
    maxRssMiB: Number(m[4]) / 1024,
    stdout: r.stdout,
  };
}

/** The median of some numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Time a reference and Kiln alternately, `pairs` times (the machine's cores
 * are shared, so timings drift; interleaving spreads the drift over both),
 * calling `before` ahead of every run (e.g. `sync` and removing the last
 * output). Returns the medians and Kiln's highest peak RSS.
 */
export function interleaved(
  pairs: number,
  ref: () => Timed,
  kiln: () => Timed,
  before: () => void = () => {},
): {
  refS: number;
  kilnS: number;
  peakMiB: number;
  refRuns: number[];
  kilnRuns: number[];
  refCpuS: number;
  kilnCpuS: number;
} {
  const refRuns: number[] = [];
  const kilnRuns: number[] = [];
  const refCpu: number[] = [];
  const kilnCpu: number[] = [];
  let peakMiB = 0;
  for (let i = 0; i < pairs; i++) {
    // Alternate which goes first, so neither always pays for the other's write-back.
    const order = i % 2 === 0 ? ["ref", "kiln"] : ["kiln", "ref"];
    for (const which of order) {
      before();
      if (which === "ref") {
        const r = ref();
        refRuns.push(r.wallS);
        refCpu.push(r.cpuS);
      } else {
        const k = kiln();
        kilnRuns.push(k.wallS);
        kilnCpu.push(k.cpuS);
        peakMiB = Math.max(peakMiB, k.maxRssMiB);
      }
    }
  }
  return {
    refS: median(refRuns),
    kilnS: median(kilnRuns),
    peakMiB,
    refRuns,
    kilnRuns,
    refCpuS: median(refCpu),
    kilnCpuS: median(kilnCpu),
  };
}

/** The note of an interleaved comparison: the runs, and the CPU-time medians. */
export function runsNote(r: ReturnType<typeof interleaved>, pairs: number): string {
  const list = (xs: number[]) => xs.map((s) => s.toFixed(2)).join("/");
  return `median of ${pairs} interleaved pairs (ref ${list(r.refRuns)} s, kiln ${list(r.kilnRuns)} s); CPU (user+sys) median ref ${r.refCpuS.toFixed(2)} s, kiln ${r.kilnCpuS.toFixed(2)} s`;
}

/** Flush dirty pages so the next timed run does not pay for the last one's write-back. */
export function sync(): void {
  spawnSync("sync");
}
