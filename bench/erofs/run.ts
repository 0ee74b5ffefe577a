/**
 * Benchmark: `kiln rootfs build TREE -o x.erofs` against `mkfs.erofs IMG
 * TREE` on the generated tree (bench/common/tree.ts), output on disk,
 * uncompressed (the CLI has no compression option yet). Median of KILN_BENCH_PAIRS (5) interleaved
 * pairs, `sync` before every run. Target: ≤ 1.1×.
 *
 *   npm run build && npx tsx bench/erofs/run.ts
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { interleaved, report, runsNote, sync, timed } from "../common/report.js";
import { benchTree, CLI, kilnEnv, outDir, PAIRS, requireBuiltCli } from "../common/rootfs.js";

requireBuiltCli();
const { tree, label } = benchTree();
const work = outDir("erofs");
const ref = join(work, "ref.erofs");
const out = join(work, "kiln.erofs");
const env = kilnEnv(join(work, "home"));
const TARGET = 1.1;
const clean = () => {
  rmSync(ref, { force: true });
  rmSync(out, { force: true });
  sync();
};

try {
  for (const z of [undefined]) {
    const r = interleaved(
      PAIRS,
      () => timed(["mkfs.erofs", "--quiet", ...(z ? [`-z${z}`] : []), ref, tree]),
      () => timed([process.execPath, CLI, "rootfs", "build", tree, "-o", out], { env }),
      clean,
    );
    const ratio = r.kilnS / r.refS;
    report({
      work: `erofs${z ? ` -z${z}` : ""}, ${label}`,
      reference: `mkfs.erofs${z ? ` -z${z}` : ""}`,
      refS: r.refS,
      kilnS: r.kilnS,
      ratio,
      target: `≤ ${TARGET}×`,
      met: ratio <= TARGET,
      peakMiB: r.peakMiB,
      note: runsNote(r, PAIRS),
    });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
