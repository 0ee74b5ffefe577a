/**
 * Shared set-up of the root filesystem benchmarks (bench/ext4, bench/erofs,
 * bench/initrd): the generated tree, a scratch directory on disk, the built
 * CLI, and the environment Kiln runs in.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ensureTree, type TreeStats } from "./tree.js";

export const REPO = resolve(import.meta.dirname, "../..");
/** The built CLI (`npm run build`), run as users run it. */
export const CLI = join(REPO, "bin/kiln.js");

/** Pairs of runs per comparison (KILN_BENCH_PAIRS overrides). */
export const PAIRS = Number(process.env.KILN_BENCH_PAIRS ?? 5);

/** Exit with a message when dist/ is missing (npm run bench builds it first). */
export function requireBuiltCli(): void {
  if (!existsSync(join(REPO, "dist/cli/main.js"))) {
    console.error("this benchmark runs the built CLI: run `npm run build` first");
    process.exit(1);
  }
}

/** The benchmark tree (KILN_BENCH_TREE, default under the temp dir), created once. */
export function benchTree(): { tree: string; stats: TreeStats; label: string } {
  const tree = resolve(process.env.KILN_BENCH_TREE ?? join(tmpdir(), "kiln-bench-initrd-tree"));
  const t0 = performance.now();
  const stats = ensureTree(tree);
  const label = `${stats.files} files (+${stats.hardlinks} hard links, ${stats.symlinks} symlinks), ${stats.dirs} dirs, ${(stats.totalBytes / 1e6).toFixed(0)} MB`;
  console.log(`tree: ${tree}: ${label} (ready in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return { tree, stats, label };
}

/** A scratch directory on disk (KILN_BENCH_OUT overrides), for the images both tools write. */
export function outDir(name: string): string {
  return mkdtempSync(join(process.env.KILN_BENCH_OUT ?? tmpdir(), `kiln-bench-${name}-`));
}

/** Kiln's environment: no SOURCE_DATE_EPOCH (it would make a build reproducible), plain output. */
export function kilnEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, KILN_HOME: home, NO_COLOR: "1" };
  delete env.SOURCE_DATE_EPOCH;
  return env;
}
