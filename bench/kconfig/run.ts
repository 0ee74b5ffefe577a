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
import { report } from "../common/report.js";
import { measure, reportKconfig, sampleAlternating, type Tools, tableLines } from "./common.js";

const repo = resolve(import.meta.dirname, "../..");
const shared = resolve(process.env.KILN_SHARED ?? join(repo, "../shared"));
const fc = join(shared, "data/firecracker/guest_configs/microvm-kernel-ci-x86_64-6.1.config");
const tarball = process.env.KILN_LINUX_TARBALL ?? "/usr/src/linux-source-6.1.tar.xz";
const runs = Number(process.env.KILN_BENCH_RUNS ?? 3);

if (!process.env.KILN_BENCH_LINUX && !existsSync(tarball)) {
  report({
    work: "Kconfig olddefconfig, Linux 6.1 x86_64, Firecracker's config",
    skip: `no Linux tree: ${tarball} is missing (apt-get install linux-source-6.1, or set KILN_BENCH_LINUX)`,
    target: "≤ 1.0×",
  });
  process.exit(0);
}

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

const tools: Tools = {
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

const samples = sampleAlternating(tools, runs);

const ref = readFileSync(dotconfig, "utf8");
const same = readFileSync(kilnOut, "utf8") === ref;
const lines = tableLines(
  `olddefconfig, Linux ${confEnv.KERNELVERSION} x86_64, Firecracker guest config (${runs} runs, median)`,
  { kiln: "kiln config olddefconfig", make: "make olddefconfig", conf: "conf --olddefconfig (bare)" },
  samples,
  same,
);
console.log(lines.join("\n"));
writeFileSync(join(tmpdir(), "kiln-bench-kconfig.txt"), `${lines.join("\n")}\n`);
if (!same) process.exitCode = 1;
reportKconfig(
  "Kconfig olddefconfig, Linux 6.1 x86_64, Firecracker's config",
  "make olddefconfig",
  samples,
  same,
  runs,
);

// The same comparison on a Unikraft target, when a Unikraft checkout is at hand.
const ukCore = process.env.KILN_BENCH_UNIKRAFT ?? process.env.KILN_TEST_UNIKRAFT;
if (ukCore) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(import.meta.dirname, "unikraft.ts")], {
    stdio: "inherit",
  });
  if (r.status !== 0) process.exitCode = 1;
} else {
  report({
    work: "Kconfig defconfig of a Unikraft target",
    skip: "KILN_TEST_UNIKRAFT is unset (point it at a Unikraft checkout, e.g. RELEASE-0.17.0)",
    target: "≤ 1.0×",
  });
}
