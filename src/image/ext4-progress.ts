/**
 * Progress for `mkfs.ext4 -d`: the tool prints nothing while it copies a tree
 * (e2fsprogs' `populate_fs` has no progress callback; without `-q` it says
 * "Copying files into the device: done" only at the end), and a 200,000-file
 * tree takes minutes. What can be watched is the image file itself: mke2fs
 * writes it as a sparse file, so the blocks the host has allocated for it grow
 * as inode tables, the journal and then each file's data land in it. Kiln
 * compares them with what the finished image will hold.
 */
import { stat } from "node:fs/promises";
import { formatBytes } from "../core/units.js";

/**
 * The journal mke2fs gives a filesystem of `sizeBytes` with 4 KiB blocks
 * (e2fsprogs `lib/ext2fs/mkjournal.c`, `ext2fs_default_journal_size`).
 */
export function ext4JournalBytes(sizeBytes: number): number {
  const blocks = Math.floor(sizeBytes / 4096);
  const journalBlocks =
    blocks < 2048
      ? 0
      : blocks < 32768
        ? 1024
        : blocks < 256 * 1024
          ? 4096
          : blocks < 512 * 1024
            ? 8192
            : blocks < 4096 * 1024
              ? 16384
              : blocks < 8192 * 1024
                ? 32768
                : 65536;
  return journalBlocks * 4096;
}

/**
 * Bytes the image file will have allocated once `mkfs.ext4 -d` finishes
 * (pure): the tree's data blocks, the inode table for `inodes` 256-byte
 * inodes and the journal. Bitmaps, group descriptors and extent blocks are
 * left out; the figure is a progress denominator, not a size.
 */
export function ext4ExpectedAllocatedBytes(dataBlocks: number, inodes: number, sizeBytes: number): number {
  return dataBlocks * 4096 + inodes * 256 + ext4JournalBytes(sizeBytes);
}

/** The progress message for `allocated` of `expected` bytes; never 100 % before the tool exits. */
export function ext4ProgressMessage(allocatedBytes: number, expectedBytes: number): string {
  const pct = Math.min(99, Math.floor((allocatedBytes / Math.max(1, expectedBytes)) * 100));
  return `mkfs.ext4: ${formatBytes(allocatedBytes)} of ~${formatBytes(expectedBytes)} written (${pct}%)`;
}

/**
 * Report `image`'s allocated bytes through `update` every `intervalMs` until
 * the returned function is called. A missing file (mke2fs has not created it
 * yet) reports nothing; an unchanged size is not repeated.
 */
export function watchExt4Image(
  image: string,
  expectedBytes: number,
  update: (message: string) => void,
  intervalMs = 250,
): () => void {
  let last = -1;
  let busy = false;
  // A stat in flight when the watch stops must not report after the step's `done` line.
  let stopped = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    stat(image)
      .then((s) => {
        const allocated = s.blocks * 512;
        if (allocated !== last && !stopped) {
          last = allocated;
          update(ext4ProgressMessage(allocated, expectedBytes));
        }
      })
      .catch(() => {})
      .finally(() => {
        busy = false;
      });
  }, intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
