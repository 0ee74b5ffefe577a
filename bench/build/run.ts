/**
 * Benchmark: Kiln's cold build of a hello-world application against the
 * equivalent raw make commands on the same Unikraft tree (the tutorial's make
 * method: `make defconfig` with the same defconfig, then `make -jN`), each in
 * a fresh build directory; then a no-op rebuild of each. Two rounds,
 * alternating, best of each kept (other work on the machine adds noise).
 * Targets: cold ratio ≤ 1.05, Kiln's no-op ≤ 0.5 s.
 *
 *   KILN_TEST_UNIKRAFT=/path/to/unikraft npm run bench:build
 *
 * Without KILN_TEST_UNIKRAFT it prints why and exits 0.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { loadProject } from "../../src/kraftfile/index.js";
import { buildProject } from "../../src/unikraft/build.js";
import { UNIKRAFT_TREE, writeHelloworldApp } from "../../test/helpers/unikraft.js";

const tree = UNIKRAFT_TREE;
if (!tree) {
  console.log(
    "bench:build skipped: KILN_TEST_UNIKRAFT is unset (point it at a Unikraft checkout, e.g. RELEASE-0.17.0)",
  );
  process.exit(0);
}
const jobs = availableParallelism();
const work = mkdtempSync(join(tmpdir(), "kiln-bench-build-"));
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

function make(args: string[]): void {
  const r = spawnSync("make", ["-C", tree!, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) throw new Error(`make ${args.join(" ")} failed: ${r.stderr.toString().slice(-2000)}`);
}

/** The raw make method on a fresh build directory, with the defconfig Kiln wrote. */
function rawBuild(round: number, defconfig: string): { coldMs: number; noopMs: number } {
  const dir = join(work, `raw-${round}`);
  writeApp(dir);
  const common = [`O=${join(dir, "build")}`, `A=${dir}`, "N=helloworld", `C=${join(dir, ".config")}`];
  const coldMs = timeMs(() => {
    make([...common, `UK_DEFCONFIG=${defconfig}`, "defconfig"]);
    make([...common, `-j${jobs}`]);
  });
  const noopMs = timeMs(() => make([...common, `-j${jobs}`]));
  return { coldMs, noopMs };
}

async function kilnBuild(round: number): Promise<{ coldMs: number; noopMs: number; defconfig: string }> {
  const dir = join(work, `kiln-${round}`);
  writeApp(dir);
  const env = { ...process.env, KILN_HOME: join(work, "home") };
  const coldMs = await timeAsyncMs(async () => {
    const { project } = await loadProject(dir, { env });
    await buildProject(project, { jobs, env });
  });
  const noopMs = await timeAsyncMs(async () => {
    const { project } = await loadProject(dir, { env });
    await buildProject(project, { jobs, env });
  });
  const defconfig = join(work, `defconfig-${round}`);
  writeFileSync(
    defconfig,
    readFileSync(
      join(dir, ".unikraft/build/targets/helloworld_qemu-x86_64/defconfig.helloworld_qemu-x86_64"),
    ),
  );
  return { coldMs, noopMs, defconfig };
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
try {
  const kiln: { coldMs: number; noopMs: number }[] = [];
  const raw: { coldMs: number; noopMs: number }[] = [];
  for (let round = 0; round < 2; round++) {
    const k = await kilnBuild(round);
    kiln.push(k);
    raw.push(rawBuild(round, k.defconfig));
    console.log(`round ${round + 1}: kiln cold ${s(k.coldMs)}, raw cold ${s(raw[round]!.coldMs)}`);
  }
  const best = (xs: { coldMs: number; noopMs: number }[], k: "coldMs" | "noopMs") =>
    Math.min(...xs.map((x) => x[k]));
  const kc = best(kiln, "coldMs");
  const rc = best(raw, "coldMs");
  const kn = best(kiln, "noopMs");
  const rn = best(raw, "noopMs");
  console.log(`tree: ${tree}, -j${jobs}, best of 2 rounds`);
  console.log(`cold build:  kiln ${s(kc)}  raw make ${s(rc)}  ratio ${(kc / rc).toFixed(3)} (target ≤ 1.05)`);
  console.log(
    `no-op build: kiln ${s(kn)}  raw make ${s(rn)}  ratio ${(kn / rn).toFixed(3)} (target: kiln ≤ 0.5 s)`,
  );
  console.log(`kiln's own overhead on a no-op: ${s(Math.max(0, kn - rn))}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
