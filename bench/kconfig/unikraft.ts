/**
 * Benchmark: a Unikraft target's configure step, in one run, three ways:
 *   - Kiln's CLI (`bin/kiln.js config defconfig -t TARGET DIR`, from command start: what kiln build
 *     does instead of make; run `npm run build` first),
 *   - Unikraft's `make defconfig UK_DEFCONFIG=…` with the same defconfig (what KraftKit and the
 *     tutorial's make method run; conf already built by the warm-up),
 *   - Unikraft's prebuilt `support/kconfig` conf (`<build>/kconfig/conf --defconfig=…`) alone, with
 *     the environment the Makefile gives it.
 * On a hello-world app (qemu/x86_64) over KILN_BENCH_UNIKRAFT (or KILN_TEST_UNIKRAFT), a Unikraft
 * checkout. One warm-up of each, then KILN_BENCH_RUNS (default 5) alternating timed runs; prints
 * median wall and CPU time, peak RSS and the ratios, and checks all three wrote the same .config.
 *
 *   npm run build && npm run bench:kconfig-unikraft
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { openUnikraftTree } from "../../src/kconfig/unikraft.js";
import { loadProject } from "../../src/kraftfile/load.js";
import { openTargetKconfig } from "../../src/orchestration/unikraft-config.js";
import { defconfigText } from "../../src/unikraft/config.js";
import { planMake } from "../../src/unikraft/make.js";
import { writeHelloworldApp } from "../../test/helpers/unikraft.js";

const repo = resolve(import.meta.dirname, "../..");
const core = process.env.KILN_BENCH_UNIKRAFT ?? process.env.KILN_TEST_UNIKRAFT;
if (!core) throw new Error("set KILN_BENCH_UNIKRAFT (or KILN_TEST_UNIKRAFT) to a Unikraft checkout");
const runs = Number(process.env.KILN_BENCH_RUNS ?? 5);

interface Sample {
  wallMs: number;
  cpuMs: number;
  rssKiB: number;
}

function measure(argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Sample {
  const r = spawnSync("/usr/bin/time", ["-f", "TIME %e %U %S %M", ...argv], { cwd, env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed:\n${r.stderr}`);
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`no timing from /usr/bin/time:\n${r.stderr}`);
  return { wallMs: Number(m[1]) * 1000, cpuMs: (Number(m[2]) + Number(m[3])) * 1000, rssKiB: Number(m[4]) };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const dir = mkdtempSync(join(tmpdir(), "kiln-bench-ukconfig-"));
const home = join(dir, "home");
writeHelloworldApp(dir, resolve(core), ["qemu/x86_64"]);
const { project } = await loadProject(dir, { env: process.env });
const target = project.targets[0]!;
const tk = await openTargetKconfig(project, target, { fetch: false });
// Unikraft's make resolves O= through its parent directory, which must exist
mkdirSync(tk.buildDir, { recursive: true });
const defconfig = join(dir, "bench.defconfig");
writeFileSync(defconfig, defconfigText(tk.plan.options));
const makeConfig = join(dir, ".config.make");
const confConfig = join(dir, ".config.conf");
const makeArgv = planMake({
  coreDir: tk.dirs.core,
  appDir: project.dir,
  libDirs: tk.dirs.libraries,
  buildDir: tk.buildDir,
  name: project.name,
  configFile: makeConfig,
  goal: "defconfig",
  vars: { UK_DEFCONFIG: defconfig },
});
// conf's environment as the Makefile's COMMON_CONFIG_ENV gives it (the same Kiln's engine uses)
const ut = openUnikraftTree({
  coreDir: tk.dirs.core,
  appDir: project.dir,
  libDirs: tk.dirs.libraries,
  buildDir: tk.buildDir,
  name: project.name,
  configFile: confConfig,
  arch: target.architecture,
});
const confEnv = { ...process.env, ...ut.env };

const tools = {
  kiln: () =>
    measure(
      [process.execPath, join(repo, "bin/kiln.js"), "config", "defconfig", "-t", target.name, dir],
      dir,
      { ...process.env, KILN_HOME: home },
    ),
  make: () => measure(makeArgv, dir),
  conf: () =>
    measure(
      [join(tk.buildDir, "kconfig", "conf"), `--defconfig=${defconfig}`, ut.entry],
      tk.dirs.core,
      confEnv,
    ),
};

const samples: Record<keyof typeof tools, Sample[]> = { kiln: [], make: [], conf: [] };
for (const f of Object.values(tools)) f(); // warm-up (make builds conf here)
for (let i = 0; i < runs; i++)
  for (const [k, f] of Object.entries(tools)) samples[k as keyof typeof tools].push(f());

const mine = readFileSync(tk.configFile, "utf8");
const same = mine === readFileSync(makeConfig, "utf8") && mine === readFileSync(confConfig, "utf8");
const row = (name: string, s: Sample[]) =>
  `${name.padEnd(30)} ${(median(s.map((x) => x.wallMs)) / 1000).toFixed(3).padStart(8)} s  ${(median(s.map((x) => x.cpuMs)) / 1000).toFixed(3).padStart(8)} s  ${(Math.max(...s.map((x) => x.rssKiB)) / 1024).toFixed(1).padStart(7)} MiB`;
const k = median(samples.kiln.map((x) => x.wallMs));
const mk = median(samples.make.map((x) => x.wallMs));
const cf = median(samples.conf.map((x) => x.wallMs));
const lines = [
  `configure ${target.name} on ${core} (${runs} runs, median)`,
  `${"".padEnd(30)} ${"wall".padStart(10)}  ${"cpu".padStart(10)}  ${"peak RSS".padStart(11)}`,
  row("kiln config defconfig -t", samples.kiln),
  row("make defconfig", samples.make),
  row("conf --defconfig (bare)", samples.conf),
  `ratio kiln/make: ${(k / mk).toFixed(2)}x   kiln/conf: ${(k / cf).toFixed(2)}x`,
  `load average at end: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
  `identical .config: ${same ? "yes" : "NO"}`,
];
console.log(lines.join("\n"));
rmSync(dir, { recursive: true, force: true });
if (!same) process.exitCode = 1;
