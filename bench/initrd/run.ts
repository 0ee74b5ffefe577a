/**
 * Benchmark: Kiln's `packCpio` against the Unikraft tutorial's
 * `find -depth -print | tac | bsdcpio -o --format newc` on the same generated
 * tree (≥ 20,000 files, ≥ 500 MB). One warm-up pass (so both read from the
 * page cache), then one timed run of each. Prints both times, the ratio and
 * Kiln's peak RSS. Target: ratio ≤ 1.0, RSS ≤ 100 MB.
 *
 *   npx tsx bench/initrd/run.ts          (npm run bench:initrd)
 *   KILN_BENCH_TREE=/path reuses or creates the tree elsewhere.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statfsSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ensureTree } from "./tree.js";

const tree = resolve(process.env.KILN_BENCH_TREE ?? join(tmpdir(), "kiln-bench-initrd-tree"));
const work = mkdtempSync(join(tmpdir(), "kiln-bench-initrd-"));
/**
 * Archives go to tmpfs when there is room (KILN_BENCH_OUT overrides): writing
 * ~1 GB to disk makes both times mostly the disk's write-back, which varies
 * run to run by more than the tools differ.
 */
const outDir = mkdtempSync(
  join(process.env.KILN_BENCH_OUT ?? (shmFreeBytes() > 3e9 ? "/dev/shm" : tmpdir()), "kiln-bench-initrd-"),
);

function shmFreeBytes(): number {
  try {
    const st = statfsSync("/dev/shm");
    return st.bavail * st.bsize;
  } catch {
    return 0;
  }
}
const here = import.meta.dirname;

/**
 * Compile the child (and the Kiln modules it imports) with tsc into the work
 * directory, so it runs under plain node as an installed Kiln does: the tsx
 * loader alone costs ~35 MB of RSS and start-up time Kiln users don't pay.
 */
function compileChild(): string {
  const out = join(work, "build");
  const repo = resolve(here, "../..");
  const tsc = join(repo, "node_modules/typescript/bin/tsc");
  const args = [
    tsc,
    "--outDir",
    out,
    "--rootDir",
    repo,
    "--module",
    "NodeNext",
    "--moduleResolution",
    "NodeNext",
  ];
  args.push("--target", "ES2022", "--types", "node", "--skipLibCheck", join(here, "child.ts"));
  const r = spawnSync(process.execPath, args, { cwd: repo, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`tsc failed:\n${r.stdout}${r.stderr}`);
  writeFileSync(join(out, "package.json"), '{ "type": "module" }\n');
  return join(out, "bench/initrd/child.js");
}

function timed(argv: string[], cwd: string): { wallS: number; maxRssKiB: number; stdout: string } {
  // GNU time: %e wall seconds, %M peak RSS in KiB of the command (and the children it waited for).
  const r = spawnSync("/usr/bin/time", ["-f", "TIME %e %M", ...argv], {
    cwd,
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  const m = /TIME ([\d.]+) (\d+)\s*$/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${argv.join(" ")} failed (${r.status}):\n${r.stderr}`);
  return { wallS: Number(m[1]), maxRssKiB: Number(m[2]), stdout: r.stdout };
}

try {
  let t0 = performance.now();
  const stats = ensureTree(tree);
  console.log(
    `tree: ${tree}: ${stats.files} files (+${stats.hardlinks} hard links, ${stats.symlinks} symlinks), ${stats.dirs} dirs, ${(stats.totalBytes / 1e6).toFixed(0)} MB (ready in ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  const seedOut = join(outDir, "seed.cpio");
  const kilnOut = join(outDir, "kiln.cpio");
  console.log(`archives written to ${outDir}`);
  const seed = (out: string) => [
    "sh",
    "-c",
    `find . -depth -print | tac | bsdcpio -o --format newc > '${out}' 2>/dev/null`,
  ];
  t0 = performance.now();
  timed(seed("/dev/null"), tree);
  console.log(`warm-up (seed command to /dev/null): ${((performance.now() - t0) / 1000).toFixed(2)} s`);

  // Each timed run starts with no dirty pages (sync), so neither pays for the other's write-back.
  const child = compileChild();
  spawnSync("sync");
  const s = timed(seed(seedOut), tree);
  const seedBytes = statSync(seedOut).size;
  rmSync(seedOut);
  spawnSync("sync");
  const k = timed([process.execPath, child, tree, kilnOut], work);
  const inner = JSON.parse(k.stdout.trim().split("\n").pop()!) as {
    packMs: number;
    entries: number;
    maxRssKiB: number;
  };

  const kilnBytes = statSync(kilnOut).size;
  console.log(
    `seed  (find | tac | bsdcpio): ${s.wallS.toFixed(2)} s, ${(seedBytes / 1e6).toFixed(1)} MB archive`,
  );
  console.log(
    `kiln  (packCpio, child process): ${k.wallS.toFixed(2)} s end to end (node start-up included), ${(inner.packMs / 1000).toFixed(2)} s in packCpio, ${inner.entries} entries, ${(kilnBytes / 1e6).toFixed(1)} MB archive`,
  );
  console.log(
    `ratio kiln/seed: ${(k.wallS / s.wallS).toFixed(2)} end to end, ${(inner.packMs / 1000 / s.wallS).toFixed(2)} packCpio only (target <= 1.0)`,
  );
  console.log(`kiln peak RSS: ${(k.maxRssKiB / 1024).toFixed(0)} MiB (target <= 100 MB)`);
} finally {
  rmSync(work, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
}
