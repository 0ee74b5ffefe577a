/**
 * Benchmark: `kiln rootfs build TREE -o x.cpio` (the built CLI, as users run
 * it) against the Unikraft tutorial's `find -depth -print | tac | bsdcpio -o
 * --format newc` on the same generated tree (bench/common/tree.ts: 20,000
 * files), both writing to disk (KILN_BENCH_OUT overrides the directory).
 * Median of KILN_BENCH_PAIRS (5) interleaved pairs, `sync` before every run,
 * after one warm-up (so both read from the page cache). Targets: ratio
 * ≤ 0.4, Kiln's peak RSS ≤ 100 MiB. The note also gives a floor: `cat` of
 * the same files into one file, no headers. GNU cat (coreutils ≥ 9.0) copies
 * with copy_file_range(2), inside the kernel, which neither bsdcpio nor
 * Node's fs API (no copy into an offset of an open file) can do.
 *
 *   npm run build && npm run bench:initrd
 */
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { interleaved, report, runsNote, sync, timed } from "../common/report.js";
import { benchTree, CLI, kilnEnv, outDir, PAIRS, requireBuiltCli } from "../common/rootfs.js";

requireBuiltCli();
const { tree, label } = benchTree();
const work = outDir("initrd");
const ref = join(work, "ref.cpio");
const out = join(work, "kiln.cpio");
const env = kilnEnv(join(work, "home"));
const TARGET = 0.4;
const seed = (to: string) => [
  "sh",
  "-c",
  `find . -depth -print | tac | bsdcpio -o --format newc > '${to}' 2>/dev/null`,
];

try {
  timed(seed("/dev/null"), { cwd: tree }); // warm-up: the tree in the page cache
  const r = interleaved(
    PAIRS,
    () => timed(seed(ref), { cwd: tree }),
    () => timed([process.execPath, CLI, "rootfs", "build", tree, "-o", out], { env }),
    () => {
      rmSync(ref, { force: true });
      rmSync(out, { force: true });
      sync();
    },
  );
  const sizes = `archives ${(statSync(out).size / 1e6).toFixed(0)} MB (kiln)`;
  // A floor: `cat` of every regular file into one file, no headers, no hard-link bookkeeping,
  // the bytes copied by the kernel (coreutils' cat uses copy_file_range). A user-space
  // read()/write() archiver, bsdcpio or Kiln, copies each byte twice more.
  const floorOut = join(work, "floor.bin");
  const floorRuns: number[] = [];
  for (let i = 0; i < PAIRS; i++) {
    rmSync(floorOut, { force: true });
    sync();
    floorRuns.push(
      timed(["sh", "-c", `find . -type f -print0 | xargs -0 cat > '${floorOut}'`], { cwd: tree }).wallS,
    );
  }
  rmSync(floorOut, { force: true });
  const floorS = [...floorRuns].sort((a, b) => a - b)[Math.floor(floorRuns.length / 2)] ?? 0;
  const floor = `floor (cat of the same files into one file, copy_file_range, median of ${PAIRS}) ${floorS.toFixed(2)} s = ${(floorS / r.refS).toFixed(2)}× bsdcpio`;
  const ratio = r.kilnS / r.refS;
  report({
    work: `cpio, ${label}`,
    reference: "find | tac | bsdcpio -o --format newc",
    refS: r.refS,
    kilnS: r.kilnS,
    ratio,
    target: `≤ ${TARGET}×, ≤ 100 MiB`,
    met: ratio <= TARGET && r.peakMiB <= 100,
    peakMiB: r.peakMiB,
    note: `output on disk; ${runsNote(r, PAIRS)}; ${sizes}; ${floor}`,
  });
} finally {
  rmSync(work, { recursive: true, force: true });
}
