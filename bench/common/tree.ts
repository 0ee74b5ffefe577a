/**
 * The benchmark's input: a deterministic tree (seeded PRNG) of ≥ 20,000
 * files and ≥ 500 MB with a realistic size mix (mostly small files, a few
 * large), nested directories, symlinks and a few hard links. Generated once
 * and reused (a stamp file records the generator version).
 */
import { existsSync, linkSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const VERSION = "kiln-bench-initrd-tree v1";

/** mulberry32: small, fast, deterministic PRNG (uniform in [0, 1)). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TreeStats {
  files: number;
  dirs: number;
  symlinks: number;
  hardlinks: number;
  totalBytes: number;
}

/** Create (or reuse) the tree at `dir`; returns what it holds. */
export function ensureTree(dir: string, files = 20_000): TreeStats {
  const stamp = join(dir, ".stamp");
  const rand = prng(20240611);
  // File sizes: 75 % under 8 KiB, 20 % 8–128 KiB, 5 % 128 KiB–1 MiB (like a distro's /usr).
  const sizes: number[] = [];
  for (let i = 0; i < files; i++) {
    const r = rand();
    const s = r < 0.75 ? rand() * 8192 : r < 0.95 ? 8192 + rand() * 122_880 : 131_072 + rand() * 917_504;
    sizes.push(Math.floor(s));
  }
  const dirs: string[] = [];
  for (let i = 0; i < 800; i++) {
    const depth = 1 + Math.floor(rand() * 4);
    const parts = [];
    for (let d = 0; d < depth; d++) parts.push(`d${Math.floor(rand() * (d === 0 ? 12 : 8))}`);
    dirs.push(parts.join("/"));
  }
  const stats: TreeStats = { files, dirs: 0, symlinks: 500, hardlinks: 200, totalBytes: 0 };
  for (const s of sizes) stats.totalBytes += s;
  stats.dirs = new Set(dirs.flatMap((d) => d.split("/").map((_, i, a) => a.slice(0, i + 1).join("/")))).size;
  if (existsSync(stamp)) return stats;

  rmSync(dir, { recursive: true, force: true });
  for (const d of dirs) mkdirSync(join(dir, d), { recursive: true });
  // One 1 MiB block of PRNG bytes; files take slices at varying offsets.
  const block = Buffer.alloc(2 << 20);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE(Math.floor(rand() * 2 ** 32), i);
  const paths: string[] = [];
  sizes.forEach((size, i) => {
    const p = join(dir, dirs[i % dirs.length]!, `f${i}.dat`);
    const off = Math.floor(rand() * (1 << 20));
    writeFileSync(p, block.subarray(off, off + size));
    paths.push(p);
  });
  for (let i = 0; i < stats.symlinks; i++) {
    symlinkSync(`../f${i}.dat`, join(dir, dirs[(i * 7) % dirs.length]!, `l${i}`));
  }
  for (let i = 0; i < stats.hardlinks; i++)
    linkSync(paths[i * 13]!, join(dir, dirs[(i * 11) % dirs.length]!, `h${i}`));
  writeFileSync(stamp, `${VERSION}\n`);
  return stats;
}
