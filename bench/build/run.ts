/**
 * Benchmark: Kiln's cold build of a hello-world application against the
 * equivalent raw make commands on the same Unikraft tree (the tutorial's make
 * method: `make defconfig` with the same defconfig, then `make -jN`), each in
 * a fresh build directory; then no-op rebuilds: Kiln in-process
 * (`loadProject` + `buildProject`), Kiln as a user runs it
 * (`node bin/kiln.js build DIR -t TARGET`, from dist/), Kiln with `--force`
 * (make's own no-op plus Kiln's work), and raw make. Two rounds of cold
 * builds, alternating; no-ops best of three; best of each kept (other work on
 * the machine adds noise). Targets: cold ratio ≤ 1.05, Kiln's no-op ≤ 0.2 s from the CLI.
 *
 *   npm run build   # the CLI measurement runs dist/
 *   KILN_TEST_UNIKRAFT=/path/to/unikraft npm run bench:build
 *
 * Without KILN_TEST_UNIKRAFT it prints why and exits 0.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { loadProject } from "../../src/kraftfile/index.js";
import { buildProject } from "../../src/unikraft/build.js";
import { REPO_ROOT } from "../../test/helpers/kiln.js";
import { UNIKRAFT_TREE, writeHelloworldApp } from "../../test/helpers/unikraft.js";
import { report } from "../common/report.js";

const tree = UNIKRAFT_TREE;
if (!tree) {
  const skip = "KILN_TEST_UNIKRAFT is unset (point it at a Unikraft checkout, e.g. RELEASE-0.17.0)";
  console.log(`bench:build skipped: ${skip}`);
  report({ work: "Unikraft helloworld: cold build", skip, target: "≤ 1.05×" });
  report({ work: "Unikraft helloworld: no-op kiln build (CLI)", skip, target: "≤ 0.2 s" });
  process.exit(0);
}
const TARGET = "helloworld_qemu-x86_64";
const CLI = join(REPO_ROOT, "bin/kiln.js");
const haveDist = existsSync(join(REPO_ROOT, "dist/cli/main.js"));
const jobs = availableParallelism();
const work = mkdtempSync(join(tmpdir(), "kiln-bench-build-"));
const env = { ...process.env, KILN_HOME: join(work, "home"), NO_COLOR: "1" };
const writeApp = (dir: string) => writeHelloworldApp(dir, tree!, ["qemu/x86_64"]);

function timeMs(f: () => void): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}
async function timeAsyncMs(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}
async function bestOf(n: number, f: () => Promise<number>): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) best = Math.min(best, await f());
  return best;
}

function make(args: string[]): void {
  const r = spawnSync("make", ["-C", tree!, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) throw new Error(`make ${args.join(" ")} failed: ${r.stderr.toString().slice(-2000)}`);
}

interface Round {
  coldMs: number;
  noopMs: number;
  cliNoopMs?: number;
  forcedNoopMs?: number;
}

/** The raw make method on a fresh build directory, with the defconfig Kiln wrote. */
async function rawBuild(round: number, defconfig: string): Promise<Round> {
  const dir = join(work, `raw-${round}`);
  writeApp(dir);
  const common = [`O=${join(dir, "build")}`, `A=${dir}`, "N=helloworld", `C=${join(dir, ".config")}`];
  const coldMs = timeMs(() => {
    make([...common, `UK_DEFCONFIG=${defconfig}`, "defconfig"]);
    make([...common, `-j${jobs}`]);
  });
  const noopMs = await bestOf(3, async () => timeMs(() => make([...common, `-j${jobs}`])));
  return { coldMs, noopMs };
}

async function kilnBuild(round: number): Promise<Round & { defconfig: string }> {
  const dir = join(work, `kiln-${round}`);
  writeApp(dir);
  const inProcess = (mode: "cold" | "no-op" | "force") =>
    timeAsyncMs(async () => {
      const { project } = await loadProject(dir, { env });
      const [r] = await buildProject(project, { jobs, env, force: mode === "force" });
      if (mode === "no-op" && !r?.skippedMake) throw new Error(`the no-op rebuild of ${dir} ran make`);
    });
  const coldMs = await inProcess("cold");
  const noopMs = await bestOf(3, () => inProcess("no-op"));
  const forcedNoopMs = await bestOf(3, () => inProcess("force"));
  const cliNoopMs = haveDist
    ? await bestOf(3, async () =>
        timeMs(() => {
          const r = spawnSync(process.execPath, [CLI, "build", dir, "-t", TARGET], { env, stdio: "pipe" });
          if (r.status !== 0 || !/up to date/.test(r.stdout.toString())) {
            throw new Error(`kiln build failed: ${r.stderr.toString().slice(-2000)}`);
          }
        }),
      )
    : undefined;
  const defconfig = join(work, `defconfig-${round}`);
  writeFileSync(defconfig, readFileSync(join(dir, `.unikraft/build/targets/${TARGET}/defconfig.${TARGET}`)));
  return { coldMs, noopMs, forcedNoopMs, ...(cliNoopMs !== undefined ? { cliNoopMs } : {}), defconfig };
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
try {
  const kiln: Round[] = [];
  const raw: Round[] = [];
  for (let round = 0; round < 2; round++) {
    const k = await kilnBuild(round);
    kiln.push(k);
    raw.push(await rawBuild(round, k.defconfig));
    console.log(`round ${round + 1}: kiln cold ${s(k.coldMs)}, raw cold ${s(raw[round]!.coldMs)}`);
  }
  const best = (xs: Round[], k: keyof Round) => Math.min(...xs.map((x) => x[k] ?? Number.POSITIVE_INFINITY));
  const kc = best(kiln, "coldMs");
  const rc = best(raw, "coldMs");
  const kn = best(kiln, "noopMs");
  const kcli = best(kiln, "cliNoopMs");
  const kf = best(kiln, "forcedNoopMs");
  const rn = best(raw, "noopMs");
  const verdict = (ms: number) => (ms <= 200 ? "meets" : "misses");
  console.log(`tree: ${tree}, -j${jobs}, cold: best of 2 rounds, no-ops: best of 6`);
  console.log(`cold build:  kiln ${s(kc)}  raw make ${s(rc)}  ratio ${(kc / rc).toFixed(3)} (target ≤ 1.05)`);
  console.log(`no-op build (target: kiln ≤ 0.2 s), raw make's own no-op ${s(rn)}:`);
  console.log(
    `  kiln in-process    ${s(kn)}  ratio to raw make ${(kn / rn).toFixed(3)}  ${verdict(kn)} the target`,
  );
  if (haveDist) {
    console.log(
      `  kiln CLI           ${s(kcli)}  ratio to raw make ${(kcli / rn).toFixed(3)}  ${verdict(kcli)} the target  (node bin/kiln.js build DIR -t ${TARGET})`,
    );
  } else console.log("  kiln CLI           not measured: dist/ is missing (run npm run build first)");
  report({
    work: "Unikraft helloworld: cold build",
    reference: `make defconfig + make -j${jobs}`,
    refS: rc / 1000,
    kilnS: kc / 1000,
    target: "≤ 1.05×",
    met: kc / rc <= 1.05,
    note: "best of 2 alternating rounds",
  });
  if (haveDist) {
    report({
      work: "Unikraft helloworld: no-op kiln build (CLI)",
      reference: "make's own no-op",
      refS: rn / 1000,
      kilnS: kcli / 1000,
      target: "≤ 0.2 s",
      met: kcli <= 200,
      note: `best of 6; in-process check ${s(kn)}`,
    });
  }
  console.log(
    `  kiln --force       ${s(kf)}  ratio to raw make ${(kf / rn).toFixed(3)}  (make runs: Kiln's own overhead ${s(Math.max(0, kf - rn))})`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
