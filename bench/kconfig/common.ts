/**
 * What the two Kconfig benchmarks (run.ts on Linux, unikraft.ts on a Unikraft
 * target) share: timing one command under GNU time, alternating the three
 * tools' runs after a warm-up, and the lines of their result table.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { report } from "../common/report.js";

/** One timed run. */
export interface Sample {
  wallMs: number;
  cpuMs: number;
  rssKiB: number;
}

/** Runs a command under /usr/bin/time for wall, CPU (children included) and peak RSS. */
export function measure(argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Sample {
  const r = spawnSync("/usr/bin/time", ["-f", "TIME %e %U %S %M", ...argv], { cwd, env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed:\n${r.stderr}`);
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`no timing from /usr/bin/time:\n${r.stderr}`);
  return { wallMs: Number(m[1]) * 1000, cpuMs: (Number(m[2]) + Number(m[3])) * 1000, rssKiB: Number(m[4]) };
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** The three tools compared: Kiln, make, and the bare conf make would run. */
export type Tools = Record<"kiln" | "make" | "conf", () => Sample>;

/** One warm-up of each tool, then `runs` rounds in which the three alternate. */
export function sampleAlternating(tools: Tools, runs: number): Record<keyof Tools, Sample[]> {
  const samples: Record<keyof Tools, Sample[]> = { kiln: [], make: [], conf: [] };
  for (const f of Object.values(tools)) f();
  for (let i = 0; i < runs; i++)
    for (const [k, f] of Object.entries(tools)) samples[k as keyof Tools].push(f());
  return samples;
}

/** Median wall times (ms) of the three tools. */
export function medians(samples: Record<keyof Tools, Sample[]>): Record<keyof Tools, number> {
  const wall = (s: Sample[]) => median(s.map((x) => x.wallMs));
  return { kiln: wall(samples.kiln), make: wall(samples.make), conf: wall(samples.conf) };
}

/** The result table: a title, one row per tool, the ratios, the load, and whether the outputs agree. */
export function tableLines(
  title: string,
  labels: Record<keyof Tools, string>,
  samples: Record<keyof Tools, Sample[]>,
  same: boolean,
): string[] {
  const row = (name: string, s: Sample[]) =>
    `${name.padEnd(30)} ${(median(s.map((x) => x.wallMs)) / 1000).toFixed(3).padStart(8)} s  ${(median(s.map((x) => x.cpuMs)) / 1000).toFixed(3).padStart(8)} s  ${(Math.max(...s.map((x) => x.rssKiB)) / 1024).toFixed(1).padStart(7)} MiB`;
  const m = medians(samples);
  return [
    title,
    `${"".padEnd(30)} ${"wall".padStart(10)}  ${"cpu".padStart(10)}  ${"peak RSS".padStart(11)}`,
    row(labels.kiln, samples.kiln),
    row(labels.make, samples.make),
    row(labels.conf, samples.conf),
    `ratio kiln/make: ${(m.kiln / m.make).toFixed(2)}x   kiln/conf: ${(m.kiln / m.conf).toFixed(2)}x   (target: kiln/make <= 1.0)`,
    `load average at end: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
    `identical .config: ${same ? "yes" : "NO"}`,
  ];
}

/** Kiln's peak RSS over its runs, in MiB. */
export const peakMiB = (s: Sample[]): number => Math.max(...s.map((x) => x.rssKiB)) / 1024;

/** The table's row for one Kconfig comparison (median wall times; met when the outputs agree and Kiln is not slower). */
export function reportKconfig(
  work: string,
  reference: string,
  samples: Record<keyof Tools, Sample[]>,
  same: boolean,
  runs: number,
): void {
  const m = medians(samples);
  report({
    work,
    reference,
    refS: m.make / 1000,
    kilnS: m.kiln / 1000,
    target: "≤ 1.0×",
    met: same && m.kiln <= m.make,
    peakMiB: peakMiB(samples.kiln),
    note: `median of ${runs} alternating runs; bare conf ${(m.conf / 1000).toFixed(2)} s; identical .config: ${same ? "yes" : "NO"}`,
  });
}
