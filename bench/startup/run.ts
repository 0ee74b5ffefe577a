/**
 * Benchmark: Kiln's own start-up, the time before it answers `kiln ps` or
 * spawns QEMU, against `node -e 0` (Node's own start-up, which Kiln cannot
 * go below). Rows:
 *
 *  1. `kiln ps` (empty machine store) against `node -e 0`;
 *  2. `kiln run -W --rm KERNEL` (Debian's /boot/vmlinuz-*): time from spawning Kiln until it execs
 *     QEMU, with a stand-in `qemu-system-x86_64` first on PATH that records
 *     the moment it starts and exits (so the guest's boot is not measured),
 *     against `node -e 0`; its CPU time is Kiln's whole run (an upper bound);
 *  3. `import` of the package root (`dist/index.js`, what `import "kiln-vm"`
 *     loads) in a Node process, against `node -e 0`. Target: under 150 ms.
 *
 * The built CLI (bin/kiln.js → dist/bundle: on Node < 22.1 kiln.cjs through its V8 code
 * cache, src/cli/code-cache.ts, warmed by one untimed run of each command; or dist/cli when not bundled;
 * `KILN_BENCH_CLI=dist/cli/main.js` measures the unbundled build).
 * Median of KILN_BENCH_RUNS (15) interleaved runs. Target: Kiln ≤ node + 40 ms.
 *
 *   npm run build && npx tsx bench/startup/run.ts
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { debianKernel } from "../../test/helpers/guests.js";
import { median, report } from "../common/report.js";
import { REPO, requireBuiltCli } from "../common/rootfs.js";

requireBuiltCli();
const RUNS = Number(process.env.KILN_BENCH_RUNS ?? 15);
const cli = resolve(REPO, process.env.KILN_BENCH_CLI ?? "bin/kiln.js");
const work = mkdtempSync(join(tmpdir(), "kiln-bench-startup-"));
const env: NodeJS.ProcessEnv = { ...process.env, KILN_HOME: join(work, "home"), NO_COLOR: "1" };
const TARGET_MS = 40;
const IMPORT_TARGET_MS = 150;
const packageRoot = pathToFileURL(join(REPO, "dist/index.js")).href;

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
/** ms from spawning `kiln run` until the stand-in QEMU started, and Kiln's CPU time for the whole run. */
function toQemuMs(kernel: string): { wall: number; cpu: number } {
  rmSync(stamp, { force: true });
  const t0 = Date.now();
  const r = spawnSync(
    process.execPath,
    ["--import", cpuProbe, cli, "run", "-W", "--rm", "--network", "none", kernel],
    {
      env: { ...env, PATH: `${bin}:${process.env.PATH}` },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  const at = Number(BigInt(readFileSync(stamp, "utf8").trim()) / 1_000_000n);
  const cpu = Number(/CPU_MS ([\d.]+)/.exec(r.stderr.toString())?.[1] ?? Number.NaN);
  return { wall: at - t0, cpu };
}

try {
  const node: number[] = [];
  const nodeCpu: number[] = [];
  const ps: number[] = [];
  const psCpu: number[] = [];
  const run: number[] = [];
  const runCpu: number[] = [];
  const imp: number[] = [];
  const impCpu: number[] = [];
  let runError: string | undefined;
  // Warm the page cache, and on Node < 22.1 the CLI's code cache (in this KILN_HOME), as any
  // earlier use of kiln on the machine would.
  wallMs([process.execPath, cli, "ps"]);
  if (kernel) {
    try {
      toQemuMs(kernel);
    } catch {
      // reported by the timed runs
    }
  }
  for (let i = 0; i < RUNS; i++) {
    const n0 = wallMs([process.execPath, "-e", "0"]);
    node.push(n0.wall);
    nodeCpu.push(n0.cpu);
    const p0 = wallMs([process.execPath, cli, "ps"]);
    ps.push(p0.wall);
    psCpu.push(p0.cpu);
    const i0 = wallMs([
      process.execPath,
      "--input-type=module",
      "-e",
      `await import(${JSON.stringify(packageRoot)})`,
    ]);
    imp.push(i0.wall);
    impCpu.push(i0.cpu);
    if (runError === undefined && kernel) {
      try {
        const r0 = toQemuMs(kernel);
        run.push(r0.wall);
        runCpu.push(r0.cpu);
      } catch (e) {
        runError = String(e).split("\n")[0];
      }
    }
  }
  const n = median(node);
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join("/");
  const row = (work: string, xs: number[], cpu?: number[], targetMs = TARGET_MS) => {
    const k = median(xs);
    const cpuNote = cpu
      ? `; CPU time (user+sys) median: node ${median(nodeCpu).toFixed(0)} ms, kiln ${median(cpu).toFixed(0)} ms (Kiln − node = ${(median(cpu) - median(nodeCpu)).toFixed(0)} ms)`
      : "";
    report({
      work,
      reference: "node -e 0",
      refS: n / 1000,
      kilnS: k / 1000,
      target: `≤ node + ${targetMs} ms`,
      met: k - n <= targetMs,
      note: `Kiln − node = ${(k - n).toFixed(0)} ms; median of ${RUNS} interleaved runs (node ${fmt(node)} ms; kiln ${fmt(xs)} ms)${cpuNote}; ${cli.replace(`${REPO}/`, "")}`,
    });
  };
  row("start-up: kiln ps", ps, psCpu);
  row("import of the package root (kiln-vm)", imp, impCpu, IMPORT_TARGET_MS);
  if (run.length > 0) row("start-up: kiln run -W until QEMU is spawned", run, runCpu);
  else {
    report({
      work: "start-up: kiln run -W until QEMU is spawned",
      skip: kernel ? `kiln run failed: ${runError}` : `no kernel to boot: ${found.skip}`,
    });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
