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
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { openUnikraftTree } from "../../src/kconfig/unikraft.js";
import { loadProject } from "../../src/kraftfile/load.js";
import { openTargetKconfig } from "../../src/orchestration/unikraft-config.js";
import { defconfigText } from "../../src/unikraft/config.js";
import { planMake } from "../../src/unikraft/make.js";
import { writeHelloworldApp } from "../../test/helpers/unikraft.js";
import { report } from "../common/report.js";
import { measure, reportKconfig, sampleAlternating, type Tools, tableLines } from "./common.js";

const repo = resolve(import.meta.dirname, "../..");
const core = process.env.KILN_BENCH_UNIKRAFT ?? process.env.KILN_TEST_UNIKRAFT;
if (!core) {
  report({
    work: "Kconfig defconfig of a Unikraft target",
    skip: "KILN_BENCH_UNIKRAFT (or KILN_TEST_UNIKRAFT) is unset: point it at a Unikraft checkout",
    target: "≤ 1.0×",
  });
  process.exit(0);
}
const runs = Number(process.env.KILN_BENCH_RUNS ?? 5);

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

const tools: Tools = {
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

const samples = sampleAlternating(tools, runs);

const mine = readFileSync(tk.configFile, "utf8");
const same = mine === readFileSync(makeConfig, "utf8") && mine === readFileSync(confConfig, "utf8");
const lines = tableLines(
  `configure ${target.name} on ${core} (${runs} runs, median)`,
  { kiln: "kiln config defconfig -t", make: "make defconfig", conf: "conf --defconfig (bare)" },
  samples,
  same,
);
console.log(lines.join("\n"));
rmSync(dir, { recursive: true, force: true });
if (!same) process.exitCode = 1;
reportKconfig(
  `Kconfig defconfig of a Unikraft target (${target.name})`,
  "make defconfig",
  samples,
  same,
  runs,
);
