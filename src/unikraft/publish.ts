/**
 * After make: the built image published at KraftKit's path, its size, and
 * the project's `rootfs:` packed into the initrd. Each leaves its output
 * untouched when it is already up to date, so a no-op rebuild changes no file.
 */
import { copyFile, link, lstat, readdir, rename, stat } from "node:fs/promises";
import { join } from "node:path";
import { KilnError } from "../core/errors.js";
import { tempPathFor } from "../core/fs.js";
import type { Reporter } from "../core/output.js";
import type { Project, Target } from "../kraftfile/types.js";

/** Size of a built image; `BUILD_NO_IMAGE` when make did not produce it. */
export async function imageSizeBytes(file: string, target: Target, logPath: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    throw new KilnError("BUILD_NO_IMAGE", `make succeeded but ${file} was not produced for ${target.name}`, {
      hint: `the image name comes from the project name and target; see ${logPath}`,
    });
  }
}

/**
 * Hard-link a built image to its published path, replacing it atomically,
 * unless it already is that file (a no-op rebuild leaves it untouched).
 */
export async function publishImage(built: string, published: string): Promise<void> {
  const from = await stat(built).catch(() => undefined);
  if (!from) return;
  const to = await stat(published).catch(() => undefined);
  if (to && to.ino === from.ino && to.dev === from.dev) return;
  const tmp = tempPathFor(published);
  try {
    await link(built, tmp);
  } catch {
    await copyFile(built, tmp);
  }
  await rename(tmp, published);
}

/** Pack the project's `rootfs:` directory into the target's initrd (CPIO, uncompressed). */
export async function packInitrd(
  project: Project,
  initrd: string | undefined,
  reporter: Reporter,
): Promise<{ initrd: string; initrdSizeBytes: number } | undefined> {
  if (!project.rootfs || !initrd) return undefined;
  const src = project.rootfs.source;
  const st = await stat(src).catch(() => undefined);
  if (!st?.isDirectory()) {
    reporter.warn(`rootfs ${src} is not a directory; Kiln packs only directories at build time`);
    return undefined;
  }
  const packed = await stat(initrd).catch(() => undefined);
  if (packed && packed.mtimeMs >= (await newestMtimeMs(src))) {
    return { initrd, initrdSizeBytes: packed.size };
  }
  // Unikraft's initrd loader reads plain newc CPIO only (no gzip), as
  // KraftKit's initramfs-<arch>.cpio is. Loaded here, not at the top: a
  // no-op rebuild never needs the packer.
  const { packCpio } = await import("../image/cpio/index.js");
  await packCpio({ sourceDir: src, output: initrd, reporter });
  return { initrd, initrdSizeBytes: (await stat(initrd)).size };
}

/**
 * The newest modification time in a tree (directories included, so a removed
 * file counts as a change): the initrd is repacked only when it is older.
 */
async function newestMtimeMs(dir: string): Promise<number> {
  let newest = (await lstat(dir)).mtimeMs;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const m = e.isDirectory() ? await newestMtimeMs(p) : (await lstat(p)).mtimeMs;
    if (m > newest) newest = m;
  }
  return newest;
}
