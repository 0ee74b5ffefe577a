/**
 * Benchmark: olddefconfig of Firecracker's x86_64 guest config on Linux 6.1,
 * in one run, three ways:
 *   - Kiln's CLI (`bin/kiln.js config olddefconfig`, from command start; run `npm run build` first),
 *   - `make ARCH=x86_64 olddefconfig` (what a user runs; conf already built),
 *   - a prebuilt `scripts/kconfig/conf --olddefconfig Kconfig` alone, with make's environment.
 * One warm-up of each (page cache, Kiln's shell-command list), then KILN_BENCH_RUNS (default 3)
 * alternating timed runs; prints median wall time, CPU time (user+sys, children included), peak
 * RSS, and the ratios. Checks that all three wrote the same .config.
 *
 *   npm run bench:kconfig                 (tree: KILN_BENCH_LINUX, default: the tarball extracted once
 *                                          to $TMPDIR/kiln-bench-linux-6.1)
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const repo = resolve(import.meta.dirname, "../..");
const shared = resolve(process.env.KILN_SHARED ?? join(repo, "../shared"));
const fc = join(shared, "data/firecracker/guest_configs/microvm-kernel-ci-x86_64-6.1.config");
const tarball = process.env.KILN_LINUX_TARBALL ?? "/usr/src/linux-source-6.1.tar.xz";
const runs = Number(process.env.KILN_BENCH_RUNS ?? 3);

function linuxTree(): string {
  if (process.env.KILN_BENCH_LINUX) return resolve(process.env.KILN_BENCH_LINUX);
  const dir = join(tmpdir(), "kiln-bench-linux-6.1");
  const tree = join(dir, "linux-source-6.1");
  if (!existsSync(join(tree, "Kconfig"))) {
    mkdirSync(dir, { recursive: true });
    console.log(`extracting ${tarball} to ${dir} (once)…`);
    execFileSync("tar", ["-xf", tarball, "-C", dir], { stdio: "inherit" });
  }
  return tree;
}

interface Sample {
  wallMs: number;
  cpuMs: number;
  rssKiB: number;
}

/** Runs a command under /usr/bin/time for wall, CPU (children included) and peak RSS. */
function measure(argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Sample {
  const r = spawnSync("/usr/bin/time", ["-f", "TIME %e %U %S %M", ...argv], { cwd, env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed:\n${r.stderr}`);
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`no timing from /usr/bin/time:\n${r.stderr}`);
  return { wallMs: Number(m[1]) * 1000, cpuMs: (Number(m[2]) + Number(m[3])) * 1000, rssKiB: Number(m[4]) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const tree = linuxTree();
const kiln = join(repo, "bin/kiln.js");
if (!existsSync(join(repo, "dist/cli/commands/config.js"))) throw new Error("run `npm run build` first");
const dotconfig = join(tree, ".config");
const kilnOut = join(tmpdir(), "kiln-bench-kconfig.config");

// Build conf once and capture make's environment for the bare conf run.
copyFileSync(fc, dotconfig);
execFileSync("make", ["-s", "ARCH=x86_64", "olddefconfig"], { cwd: tree, stdio: "ignore" });
const cc = "gcc";
const confEnv = {
  ...process.env,
  ARCH: "x86_64",
  SRCARCH: "x86",
  KERNELVERSION: execFileSync("make", ["-s", "kernelversion"], { cwd: tree, encoding: "utf8" }).trim(),
  CC: cc,
  LD: "ld",
  NM: "nm",
  OBJCOPY: "objcopy",
  AR: "ar",
  PAHOLE: "pahole",
  RUSTC: "rustc",
  BINDGEN: "bindgen",
  srctree: ".",
  CC_VERSION_TEXT: execFileSync("sh", ["-c", `${cc} --version | head -n 1`], { encoding: "utf8" }).trim(),
};

const tools = {
  kiln: () =>
    measure(
      [
        process.execPath,
        kiln,
        "config",
        "olddefconfig",
        "--srctree",
        tree,
        "--arch",
        "x86_64",
        "--in",
        fc,
        "--out",
        kilnOut,
      ],
      tree,
    ),
  make: () => {
    copyFileSync(fc, dotconfig);
    return measure(["make", "-s", "ARCH=x86_64", "olddefconfig"], tree);
  },
  conf: () => {
    copyFileSync(fc, dotconfig);
    return measure(["scripts/kconfig/conf", "--olddefconfig", "Kconfig"], tree, confEnv);
  },
};

const samples: Record<keyof typeof tools, Sample[]> = { kiln: [], make: [], conf: [] };
for (const f of Object.values(tools)) f(); // warm-up
for (let i = 0; i < runs; i++)
  for (const [k, f] of Object.entries(tools)) samples[k as keyof typeof tools].push(f());

const ref = readFileSync(dotconfig, "utf8");
const same = readFileSync(kilnOut, "utf8") === ref;
const row = (name: string, s: Sample[]) =>
  `${name.padEnd(28)} ${(median(s.map((x) => x.wallMs)) / 1000).toFixed(3).padStart(8)} s  ${(median(s.map((x) => x.cpuMs)) / 1000).toFixed(3).padStart(8)} s  ${(Math.max(...s.map((x) => x.rssKiB)) / 1024).toFixed(1).padStart(7)} MiB`;
const k = median(samples.kiln.map((x) => x.wallMs));
const mk = median(samples.make.map((x) => x.wallMs));
const cf = median(samples.conf.map((x) => x.wallMs));
const lines = [
  `olddefconfig, Linux ${confEnv.KERNELVERSION} x86_64, Firecracker guest config (${runs} runs, median)`,
  `${"".padEnd(28)} ${"wall".padStart(10)}  ${"cpu".padStart(10)}  ${"peak RSS".padStart(11)}`,
  row("kiln config olddefconfig", samples.kiln),
  row("make olddefconfig", samples.make),
  row("conf --olddefconfig (bare)", samples.conf),
  `ratio kiln/make: ${(k / mk).toFixed(2)}x   kiln/conf: ${(k / cf).toFixed(2)}x   (target: kiln/make <= 1.0)`,
  `load average at end: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
  `identical .config: ${same ? "yes" : "NO"}`,
];
console.log(lines.join("\n"));
writeFileSync(join(tmpdir(), "kiln-bench-kconfig.txt"), `${lines.join("\n")}\n`);
if (!same) process.exitCode = 1;
