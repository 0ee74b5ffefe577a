/**
 * `npm run bench`: run every benchmark `bench/<name>/run.ts` (or the names
 * given: `npm run bench -- ext4 cpio`), one after the other (they time
 * things, so never in parallel), showing their own output on stderr, and
 * print ONE table on stdout from the `BENCH {...}` lines they print (see
 * bench/common/report.ts and bench/README.md). A benchmark that fails or
 * prints no BENCH line gets a row saying so. `--json` prints the rows as
 * JSON instead of the table.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { BenchRow } from "./common/report.js";

const benchDir = import.meta.dirname;
const repo = resolve(benchDir, "..");
const args = process.argv.slice(2);
const json = args.includes("--json");
const only = args.filter((a) => !a.startsWith("--"));
const names = readdirSync(benchDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(benchDir, d.name, "run.ts")))
  .map((d) => d.name)
  .filter((n) => only.length === 0 || only.includes(n))
  .sort();
if (names.length === 0) {
  console.error(`no benchmark named ${only.join(", ")} (there are: bench/*/run.ts)`);
  process.exit(2);
}

/** Run one benchmark; its lines go to stderr (prefixed), BENCH lines are collected. */
function runOne(name: string): Promise<(BenchRow & { bench: string })[]> {
  return new Promise((done) => {
    const rows: (BenchRow & { bench: string })[] = [];
    const started = Date.now();
    const child = spawn(process.execPath, ["--import", "tsx", join(benchDir, name, "run.ts")], {
      cwd: repo,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let tail = "";
    const onLine = (line: string) => {
      const m = /^BENCH (\{.*\})\s*$/.exec(line);
      if (m) {
        try {
          rows.push({ bench: name, ...(JSON.parse(m[1]!) as BenchRow) });
        } catch {
          rows.push({ bench: name, work: name, skip: `unreadable BENCH line: ${line.slice(0, 80)}` });
        }
      }
      process.stderr.write(`[${name}] ${line}\n`);
    };
    child.stdout.on("data", (c: Buffer) => {
      tail += c.toString();
      const lines = tail.split("\n");
      tail = lines.pop() ?? "";
      for (const l of lines) onLine(l);
    });
    child.stderr.on("data", (c: Buffer) => process.stderr.write(c));
    child.on("close", (code) => {
      if (tail) onLine(tail);
      const took = ((Date.now() - started) / 1000).toFixed(0);
      process.stderr.write(`[${name}] finished in ${took} s (exit ${code})\n`);
      if (code !== 0 && rows.length === 0)
        rows.push({ bench: name, work: name, skip: `failed (exit ${code})` });
      else if (rows.length === 0) rows.push({ bench: name, work: name, skip: "printed no BENCH line" });
      done(rows);
    });
  });
}

/**
 * Benchmarks too long for a default run (bench/kernel builds Linux twice: most of an hour on
 * 2 cores) run only when named (`npm run bench -- kernel`) or with KILN_BENCH_ALL=1.
 */
const LONG: Record<string, string> = {
  kernel: "builds Linux twice (most of an hour on 2 cores): npm run bench -- kernel, or KILN_BENCH_ALL=1",
};

const rows: (BenchRow & { bench: string })[] = [];
for (const n of names) {
  const long = LONG[n];
  if (long && only.length === 0 && !process.env.KILN_BENCH_ALL) {
    process.stderr.write(`[${n}] not run: ${long}\n`);
    rows.push({ bench: n, work: n, skip: `not run by default: ${long}` });
  } else rows.push(...(await runOne(n)));
}

if (json) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  const sec = (s?: number) =>
    s === undefined ? "" : s < 1 ? `${(s * 1000).toFixed(0)} ms` : `${s.toFixed(2)} s`;
  const header = [
    "bench",
    "work",
    "reference",
    "ref time",
    "kiln time",
    "ratio",
    "target",
    "met",
    "peak MiB",
  ];
  const table = rows.map((r) =>
    r.skip !== undefined
      ? [r.bench, r.work, `skipped: ${r.skip}`, "", "", "", r.target ?? "", "", ""]
      : [
          r.bench,
          r.work,
          r.reference ?? "",
          sec(r.refS),
          sec(r.kilnS),
          r.ratio === undefined ? "" : `${r.ratio.toFixed(2)}×`,
          r.target ?? "",
          r.met === undefined ? "" : r.met ? "yes" : "NO",
          r.peakMiB === undefined ? "" : r.peakMiB.toFixed(0),
        ],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of table) console.log(line(row));
  const notes = rows.filter((r) => r.note && r.skip === undefined);
  for (const r of notes) console.log(`- ${r.bench} / ${r.work}: ${r.note}`);
}
