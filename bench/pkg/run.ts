/**
 * Benchmark: push and pull of a 50 MB package to a local docker-registry,
 * Kiln (`kiln pkg push`, `kiln pkg pull` into an empty store) against
 * `skopeo copy` of the same OCI image (from an OCI layout directory to the
 * registry, and back into an empty layout). One timed run each, the pulls
 * after an untimed warm-up pull each; prints the times and the ratios and a
 * BENCH row per direction. Target: ratio ≤ 1.0.
 *
 *   npm run build && npx tsx bench/pkg/run.ts      (npm run bench:pkg)
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startRegistry } from "../../test/helpers/registry.js";
import { buildMultibootStandin } from "../../test/machine/guests.js";
import { report } from "../common/report.js";

const repo = resolve(import.meta.dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "kiln-bench-pkg-"));
// One registry per tool: skopeo's push must upload the 50 MB too (into a registry already holding
// Kiln's blob it would only mount it), and neither pull follows the other tool's writes.
const reg = await startRegistry(join(work, "reg"));
const regSkopeo = await startRegistry(join(work, "reg-skopeo"));

// NODE_EXTRA_CA_CERTS makes every Node process parse that file at start-up (~0.1 s for a
// 144-certificate system bundle on a loaded 2-core machine) and touches no plain-HTTP transfer:
// left out, as on a machine where it is not set (KILN_BENCH_KEEP_CA=1 keeps it).
const baseEnv = { ...process.env };
delete baseEnv.KILN_HOME; // the stores and cache below are given as XDG directories
const droppedCa = baseEnv.NODE_EXTRA_CA_CERTS !== undefined && process.env.KILN_BENCH_KEEP_CA !== "1";
if (droppedCa) delete baseEnv.NODE_EXTRA_CA_CERTS;

function timed(argv: string[], env: NodeJS.ProcessEnv = {}): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), {
    env: { ...baseEnv, NO_COLOR: "1", ...env },
    encoding: "utf8",
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed: ${r.stderr}`);
  return ms;
}

try {
  const kiln = [process.execPath, join(repo, "bin/kiln.js")];
  const kernel = buildMultibootStandin(work);
  const disk = join(work, "disk.img");
  writeFileSync(disk, randomBytes(50 * 1024 * 1024));
  // Two users' stores (the pull starts from an empty one) on one machine whose cache directory
  // Kiln has used before, as anyone's who ran kiln once: on Node < 22.1 it holds the CLI's V8
  // code cache (src/cli/code-cache.ts), which the commands before the timings fill.
  const cache = join(work, "cache");
  const store = (dir: string): NodeJS.ProcessEnv => ({
    XDG_DATA_HOME: join(dir, "data"),
    XDG_STATE_HOME: join(dir, "state"),
    XDG_CONFIG_HOME: join(dir, "config"),
    XDG_CACHE_HOME: cache,
  });
  const home = store(join(work, "h1"));
  const ref = `${reg.host}/bench/kiln:1`;
  timed([...kiln, "pkg", "--kernel", kernel, "--rootfs", disk, "--name", ref], home);
  // The same image as an OCI layout directory for skopeo (made outside the timings).
  const tar = join(work, "pkg.tar");
  timed([...kiln, "pkg", "export", ref, "-o", tar], home);
  const layout = join(work, "layout");
  mkdirSync(layout);
  execFileSync("tar", ["-xf", tar, "-C", layout]);

  // Push both, then a warm-up pull each (untimed, into stores thrown away: Kiln's fills its code
  // cache for `pkg pull` as any earlier pull on the machine would), then pull both into empty
  // stores; dirty pages are flushed before each timing so no run pays for the writes of the one
  // before (a pull right after its own 50 MB push did, the other not).
  const settle = () => execFileSync("sync");
  settle();
  const kilnPush = timed([...kiln, "pkg", "push", ref], home);
  settle();
  const skopeoPush = timed([
    "skopeo",
    "copy",
    "--all",
    "--dest-tls-verify=false",
    `oci:${layout}:1`,
    `docker://${regSkopeo.host}/bench/skopeo:1`,
  ]);
  timed([...kiln, "pkg", "pull", ref], store(join(work, "h0")));
  timed([
    "skopeo",
    "copy",
    "--all",
    "--src-tls-verify=false",
    `docker://${regSkopeo.host}/bench/skopeo:1`,
    `oci:${join(work, "pulled0")}:1`,
  ]);
  settle();
  const kilnPull = timed([...kiln, "pkg", "pull", ref], store(join(work, "h2")));
  settle();
  const skopeoPull = timed([
    "skopeo",
    "copy",
    "--all",
    "--src-tls-verify=false",
    `docker://${regSkopeo.host}/bench/skopeo:1`,
    `oci:${join(work, "pulled")}:1`,
  ]);
  const f = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  // The ratio moves with the machine's load (Node's start-up is a larger share when CPUs are shared).
  if (droppedCa) console.log("NODE_EXTRA_CA_CERTS unset for both tools (KILN_BENCH_KEEP_CA=1 keeps it)");
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} on ${cpus().length} CPUs`,
  );
  console.log(
    `push 50 MB: kiln ${f(kilnPush)}, skopeo copy ${f(skopeoPush)}, ratio ${(kilnPush / skopeoPush).toFixed(2)}x`,
  );
  console.log(
    `pull 50 MB: kiln ${f(kilnPull)}, skopeo copy ${f(skopeoPull)}, ratio ${(kilnPull / skopeoPull).toFixed(2)}x`,
  );
  console.log(
    `push+pull: ratio ${((kilnPush + kilnPull) / (skopeoPush + skopeoPull)).toFixed(2)}x (target ≤ 1.0)`,
  );
  // Rows for `npm run bench`'s table (bench/table.ts reads the BENCH lines).
  const load = `one run each, load average ${loadavg()[0]!.toFixed(2)} on ${cpus().length} CPUs`;
  for (const [what, kilnMs, skopeoMs] of [
    ["push", kilnPush, skopeoPush],
    ["pull", kilnPull, skopeoPull],
  ] as const) {
    report({
      work: `${what} a 50 MB package to/from a local docker-registry`,
      reference: "skopeo copy",
      refS: skopeoMs / 1000,
      kilnS: kilnMs / 1000,
      target: "≤ 1.0×",
      met: kilnMs <= skopeoMs,
      note: `${load}${droppedCa ? "; NODE_EXTRA_CA_CERTS unset for both" : ""}`,
    });
  }
} finally {
  await reg.stop();
  await regSkopeo.stop();
  rmSync(work, { recursive: true, force: true });
}
