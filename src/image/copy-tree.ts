/**
 * Copy a directory source into a staging tree when Kiln must change it
 * (guest set-up, clamped times, a device spec). Files, directories and
 * symlinks are copied with their modes and times, hard links stay links (the
 * CPIO writer stores their data once, mkfs.ext4 -d links them); device
 * nodes, FIFOs and sockets are *recorded* in the tree's metadata, as the tar
 * staging path (`layers.ts`) records them, so the format writers create
 * them (CPIO spec, debugfs `mknod`) whoever runs Kiln. `fs.cp` could not be
 * used: it turns device nodes into empty regular files and fails on FIFOs.
 */
import {
  chmod,
  copyFile,
  link,
  lstat,
  lutimes,
  mkdir,
  readdir,
  readlink,
  symlink,
  utimes,
} from "node:fs/promises";
import { join } from "node:path";
import { errnoCode, KilnError } from "../core/errors.js";
import type { Reporter } from "../core/output.js";
import type { StagedTree } from "./tree.js";

export interface CopyTreeOptions {
  /** Keep the host owners (`--keep-owner`); otherwise everything is root:root. */
  keepOwner?: boolean;
  /** Host paths to leave out (the image being written inside the source). */
  exclude?: (absPath: string) => boolean;
  reporter?: Reporter;
  signal?: AbortSignal;
}

function copyFailed(path: string, e: unknown): KilnError {
  const code = errnoCode(e);
  return new KilnError("ROOTFS_BAD_SOURCE", `cannot copy ${path} from the source: ${code ?? String(e)}`, {
    cause: e,
    hint:
      code === "EACCES"
        ? "Kiln needs read access to every file of the source directory"
        : "check the source directory",
  });
}

/**
 * Copy the directory `src` into `tree.dir` (which must exist and be empty).
 * Owners are recorded in the tree's metadata (`ownersRecorded` becomes
 * true), so formats never read the staging copy's host owners. Errors name
 * the user's path under `src`, never the staging path.
 */
export async function copyTreeInto(src: string, tree: StagedTree, opts: CopyTreeOptions = {}): Promise<void> {
  tree.ownersRecorded = true;
  const links = new Map<string, string>();
  const progress = opts.reporter?.progress(`Copying ${src}`);
  let count = 0;
  const dirTimes: { rel: string; mode: number; mtimeSec: number }[] = [];
  const walk = async (rel: string): Promise<void> => {
    const from = rel ? join(src, rel) : src;
    const names = await readdir(from).catch((e) => {
      throw copyFailed(from, e);
    });
    for (const name of names.sort()) {
      if (opts.signal?.aborted) throw new KilnError("INTERRUPTED", "interrupted");
      const r = rel ? `${rel}/${name}` : name;
      const abs = join(src, r);
      if (opts.exclude?.(abs)) continue;
      const to = join(tree.dir, r);
      const st = await lstat(abs).catch((e) => {
        throw copyFailed(abs, e);
      });
      const mode = st.mode & 0o7777;
      const mtimeSec = Math.floor(st.mtimeMs / 1000);
      const uid = opts.keepOwner ? st.uid : 0;
      const gid = opts.keepOwner ? st.gid : 0;
      if (uid !== 0 || gid !== 0) tree.owners.set(r, { uid, gid });
      if (++count % 500 === 0) progress?.update("entries", count);
      try {
        if (st.isDirectory()) {
          await mkdir(to, { mode: 0o700 });
          dirTimes.push({ rel: r, mode, mtimeSec });
          await walk(r);
        } else if (st.isFile()) {
          const key = `${st.dev}:${st.ino}`;
          const first = st.nlink > 1 ? links.get(key) : undefined;
          if (first !== undefined) {
            await link(join(tree.dir, first), to);
            continue;
          }
          if (st.nlink > 1) links.set(key, r);
          await copyFile(abs, to);
          // Keep u+r on the host so the format tools can read it; the image gets the real mode.
          await chmod(to, mode | 0o400);
          if ((mode & 0o400) === 0) tree.modes.set(r, mode);
          await utimes(to, mtimeSec, mtimeSec);
        } else if (st.isSymbolicLink()) {
          await symlink(await readlink(abs), to);
          await lutimes(to, mtimeSec, mtimeSec);
        } else {
          const rdev = st.rdev;
          const isDev = st.isCharacterDevice() || st.isBlockDevice();
          tree.specials.set(r, {
            path: r,
            type: st.isFIFO()
              ? "fifo"
              : st.isBlockDevice()
                ? "block"
                : st.isCharacterDevice()
                  ? "char"
                  : "socket",
            mode,
            uid,
            gid,
            // Linux's dev_t encoding (glibc gnu_dev_major/gnu_dev_minor), as the CPIO walker reads it.
            major: isDev ? ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff) : 0,
            minor: isDev ? (rdev & 0xff) | ((rdev >>> 12) & ~0xff) : 0,
            mtimeSec,
          });
        }
      } catch (e) {
        if (e instanceof KilnError) throw e;
        throw copyFailed(abs, e);
      }
    }
  };
  const top = await lstat(src).catch((e) => {
    throw copyFailed(src, e);
  });
  await walk("");
  // Directory modes and times last, deepest first (writing into a directory changes its mtime).
  for (const d of dirTimes.reverse()) {
    const p = join(tree.dir, d.rel);
    await chmod(p, d.mode | 0o700);
    if ((d.mode & 0o700) !== 0o700) tree.modes.set(d.rel, d.mode);
    await utimes(p, d.mtimeSec, d.mtimeSec);
  }
  await chmod(tree.dir, (top.mode & 0o7777) | 0o700);
  await utimes(tree.dir, top.mtimeMs / 1000, top.mtimeMs / 1000);
  progress?.done(`${count} entries`);
}
