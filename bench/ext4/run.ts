/**
 * Benchmark: `kiln rootfs build TREE -o x.ext4` against `mkfs.ext4 -d TREE`
 * on the generated tree (bench/common/tree.ts: 20,000 files), output on
 * disk, the same image size for both (the one Kiln picks). Rows:
 *
 *  1. as root, a root-owned tree (nothing to change: no copy, no fix-up);
 *  2. as the ordinary user nobody, on a copy of the tree nobody owns: Kiln
 *     makes it root-owned (mkfs.ext4 in a user namespace), the reference
 *     leaves nobody's owners (skipped unless run as root);
 *  3. `--reproducible` (SOURCE_DATE_EPOCH): Kiln pins atime/ctime and clamps
 *     later mtimes in the image with debugfs; the reference is mkfs.ext4 with
 *     E2FSPROGS_FAKE_TIME and a fixed UUID, which is not byte-reproducible
 *     (it keeps the host's atimes/ctimes).
 *
 * Each row: median of KILN_BENCH_PAIRS (5) interleaved pairs, `sync` before
 * every run. Target: ≤ 1.1×.
 *
 *   npm run build && npx tsx bench/ext4/run.ts
 */
import { execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { interleaved, report, runsNote, sync, timed } from "../common/report.js";
import { benchTree, CLI, kilnEnv, outDir, PAIRS, requireBuiltCli } from "../common/rootfs.js";
import { ensureTree } from "../common/tree.js";

requireBuiltCli();
const { tree, label } = benchTree();
const work = outDir("ext4");
const ref = join(work, "ref.ext4");
const out = join(work, "kiln.ext4");
const env = kilnEnv(join(work, "home"));
const TARGET = 1.1;

function row(
  work: string,
  reference: string,
  r: ReturnType<typeof interleaved>,
  extra: { note?: string } = {},
): void {
  const ratio = r.kilnS / r.refS;
  report({
    work,
    reference,
    refS: r.refS,
    kilnS: r.kilnS,
    ratio,
    target: `≤ ${TARGET}×`,
    met: ratio <= TARGET,
    peakMiB: r.peakMiB,
    note: `${runsNote(r, PAIRS)}${extra.note ? `; ${extra.note}` : ""}`,
  });
}

const clean = () => {
  rmSync(ref, { force: true });
  rmSync(out, { force: true });
  sync();
};

try {
  // Kiln picks the size; the reference gets the same, so both write the same filesystem.
  const first = JSON.parse(
    timed([process.execPath, CLI, "rootfs", "build", tree, "-o", out, "--json"], { env }).stdout,
  );
  const sizeK = `${Math.ceil(first.sizeBytes / 1024)}k`;
  console.log(`image size ${sizeK} (Kiln's estimate), output in ${work}`);

  const asRoot = interleaved(
    PAIRS,
    () => timed(["mkfs.ext4", "-q", "-F", "-d", tree, ref, sizeK]),
    () => timed([process.execPath, CLI, "rootfs", "build", tree, "-o", out], { env }),
    clean,
  );
  row(`ext4, ${label}`, "mkfs.ext4 -d", asRoot);

  if (process.getuid?.() === 0 && existsSync("/usr/sbin/runuser")) {
    // A tree the ordinary user owns (a copy, chowned): what an unprivileged builder has.
    const own = `${tree}-nobody`;
    if (!existsSync(join(own, ".stamp"))) {
      ensureTree(own);
      execFileSync("chown", ["-hR", "nobody:nogroup", own]);
    }
    execFileSync("chmod", ["777", work]);
    const nobody = (argv: string[]) => ["runuser", "-u", "nobody", "--", ...argv];
    const r = interleaved(
      PAIRS,
      () => timed(nobody(["/usr/sbin/mkfs.ext4", "-q", "-F", "-d", own, ref, sizeK])),
      () => timed(nobody([process.execPath, CLI, "rootfs", "build", own, "-o", out]), { env }),
      clean,
    );
    row(
      "ext4 as an ordinary user, tree owned by the builder",
      "mkfs.ext4 -d (keeps the builder's owners)",
      r,
      {
        note: "Kiln's image is root-owned",
      },
    );
  } else {
    report({ work: "ext4 as an ordinary user", skip: "needs root (to run as nobody) and runuser" });
  }

  const epoch = "1700000000";
  const rep = interleaved(
    PAIRS,
    () =>
      timed(["mkfs.ext4", "-q", "-F", "-U", "0f1e2d3c-4b5a-4697-8877-665544332211", "-d", tree, ref, sizeK], {
        env: { ...process.env, E2FSPROGS_FAKE_TIME: epoch },
      }),
    () =>
      timed([process.execPath, CLI, "rootfs", "build", tree, "-o", out, "--reproducible"], {
        env: { ...env, SOURCE_DATE_EPOCH: epoch },
      }),
    clean,
  );
  row("ext4 --reproducible", "mkfs.ext4 -d, fixed time and UUID", rep, {
    note: "no copy: Kiln sets atime/ctime and clamps later mtimes in the image's inode tables (src/image/ext4-times.ts)",
  });
} finally {
  rmSync(work, { recursive: true, force: true });
}
