/**
 * Benchmark: Kiln's own start-up, the time before it answers `kiln ps` or
 * spawns QEMU, against `node -e 0` (Node's own start-up, which Kiln cannot
 * go below). Rows:
 *
 *  1. `kiln ps` (empty machine store) against `node -e 0`;
 *  2. `kiln run -W --rm KERNEL` (Debian's /boot/vmlinuz-*): time from spawning Kiln until it execs
 *     QEMU, with a stand-in `qemu-system-x86_64` first on PATH that records
 *     the moment it starts and exits (so the guest's boot is not measured),
 *     against `node -e 0`.
 *
 * The built CLI (bin/kiln.js → dist/bundle, or dist/cli when not bundled;
 * `KILN_BENCH_CLI=dist/cli/main.js` measures the unbundled build).
 * Median of KILN_BENCH_RUNS (15) interleaved runs. Target: Kiln ≤ node + 40 ms.
 *
 *   npm run build && npx tsx bench/startup/run.ts
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { debianKernel } from "../../test/helpers/guests.js";
import { median, report } from "../common/report.js";
import { REPO, requireBuiltCli } from "../common/rootfs.js";

requireBuiltCli();
const RUNS = Number(process.env.KILN_BENCH_RUNS ?? 15);
const cli = resolve(REPO, process.env.KILN_BENCH_CLI ?? "bin/kiln.js");
const work = mkdtempSync(join(tmpdir(), "kiln-bench-startup-"));
const env: NodeJS.ProcessEnv = { ...process.env, KILN_HOME: join(work, "home"), NO_COLOR: "1" };
const TARGET_MS = 40;

/**
 * A preload that prints the process's CPU time (user + system, µs resolution) at exit: the
 * machine's cores are shared, so wall times carry other people's load; CPU time mostly does not.
 * It is loaded into `node -e 0` and Kiln alike.
 */
const cpuProbe = join(work, "cpu-at-exit.mjs");
writeFileSync(
  cpuProbe,
  'process.on("exit", () => { const u = process.cpuUsage(); process.stderr.write("CPU_MS " + (u.user + u.system) / 1000 + "\\n"); });\n',
);

/** Wall time and CPU time of one run in ms (no shell, stdout discarded). */
function wallMs(argv: string[], e: NodeJS.ProcessEnv = env): { wall: number; cpu: number } {
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, ["--import", cpuProbe, ...argv.slice(1)], {
    env: e,
    stdio: ["ignore", "ignore", "pipe"],
  });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed (${r.status}): ${r.stderr}`);
  const cpu = Number(/CPU_MS ([\d.]+)/.exec(r.stderr.toString())?.[1] ?? Number.NaN);
  return { wall, cpu };
}

// The stand-in QEMU: records when it was exec'd (ns since the epoch) and exits.
const bin = join(work, "bin");
const stamp = join(work, "qemu-started");
spawnSync("mkdir", ["-p", bin]);
for (const name of ["qemu-system-x86_64"]) {
  const p = join(bin, name);
  writeFileSync(p, `#!/bin/sh\ndate +%s%N > '${stamp}'\nexit 0\n`);
  chmodSync(p, 0o755);
}
const found = debianKernel();
const kernel = found.kernel;
/** ms from spawning `kiln run` until the stand-in QEMU started. */
function toQemuMs(kernel: string): number {
  rmSync(stamp, { force: true });
  const t0 = Date.now();
  spawnSync(process.execPath, [cli, "run", "-W", "--rm", "--network", "none", kernel], {
    env: { ...env, PATH: `${bin}:${process.env.PATH}` },
    stdio: "ignore",
  });
  const at = Number(BigInt(readFileSync(stamp, "utf8").trim()) / 1_000_000n);
  return at - t0;
}

try {
  const node: number[] = [];
  const nodeCpu: number[] = [];
  const ps: number[] = [];
  const psCpu: number[] = [];
  const run: number[] = [];
  let runError: string | undefined;
  wallMs([process.execPath, cli, "ps"]); // warm the page cache
  for (let i = 0; i < RUNS; i++) {
    const n0 = wallMs([process.execPath, "-e", "0"]);
    node.push(n0.wall);
    nodeCpu.push(n0.cpu);
    const p0 = wallMs([process.execPath, cli, "ps"]);
    ps.push(p0.wall);
    psCpu.push(p0.cpu);
    if (runError === undefined && kernel) {
      try {
        run.push(toQemuMs(kernel));
      } catch (e) {
        runError = String(e).split("\n")[0];
      }
    }
  }
  const n = median(node);
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join("/");
  const row = (work: string, xs: number[], cpu?: number[]) => {
    const k = median(xs);
    const cpuNote = cpu
      ? `; CPU time (user+sys) median: node ${median(nodeCpu).toFixed(0)} ms, kiln ${median(cpu).toFixed(0)} ms (Kiln − node = ${(median(cpu) - median(nodeCpu)).toFixed(0)} ms)`
      : "";
    report({
      work,
      reference: "node -e 0",
      refS: n / 1000,
      kilnS: k / 1000,
      target: `≤ node + ${TARGET_MS} ms`,
      met: k - n <= TARGET_MS,
      note: `Kiln − node = ${(k - n).toFixed(0)} ms; median of ${RUNS} interleaved runs (node ${fmt(node)} ms; kiln ${fmt(xs)} ms)${cpuNote}; ${cli.replace(`${REPO}/`, "")}`,
    });
  };
  row("start-up: kiln ps", ps, psCpu);
  if (run.length > 0) row("start-up: kiln run -W until QEMU is spawned", run);
  else {
    report({
      work: "start-up: kiln run -W until QEMU is spawned",
      skip: kernel ? `kiln run failed: ${runError}` : `no kernel to boot: ${found.skip}`,
    });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
