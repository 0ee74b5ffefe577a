/**
 * What a disk image holds, from its first bytes rather than its name: `kiln
 * run --rootfs` attaches an EROFS image read-only whatever it is called.
 *
 * Superblock magics, both at byte 1024 of the image:
 * - EROFS: `EROFS_SUPER_MAGIC_V1` 0xE0F5E1E2, little-endian, at offset 1024
 *   (linux/fs/erofs/erofs_fs.h, `EROFS_SUPER_OFFSET`).
 * - ext2/3/4: `s_magic` 0xEF53, little-endian, at offset 1024 + 0x38
 *   (linux/fs/ext4/ext4.h, `struct ext4_super_block`).
 * - newc CPIO: the ASCII magic `070701` (or `070702` with checksums) at 0.
 * - gzip: 1f 8b at 0 (a compressed initramfs).
 * - squashfs: `hsqs` at 0 (linux/fs/squashfs/squashfs_fs.h, little-endian
 *   `SQUASHFS_MAGIC`); XFS: `XFSB` at 0 (`XFS_SB_MAGIC`, big-endian).
 * - a partitioned disk: GPT's `EFI PART` at 512, else the MBR signature
 *   55 aa at 510 (which a FAT boot sector also has).
 */
import { open } from "node:fs/promises";

/** The formats {@link sniffImageFormat} recognises. */
export type ImageFormat = "erofs" | "ext4" | "squashfs" | "xfs" | "partitioned" | "cpio" | "gzip" | "unknown";

/** Classify the first bytes of an image (at least 1082 for the superblock formats). */
export function imageFormatOf(head: Uint8Array): ImageFormat {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 1028 && b.readUInt32LE(1024) === 0xe0f5e1e2) return "erofs";
  if (b.length >= 1082 && b.readUInt16LE(1080) === 0xef53) return "ext4";
  if (b.length >= 6 && /^07070[12]$/.test(b.subarray(0, 6).toString("latin1"))) return "cpio";
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return "gzip";
  if (b.length >= 4 && b.subarray(0, 4).toString("latin1") === "hsqs") return "squashfs";
  if (b.length >= 4 && b.subarray(0, 4).toString("latin1") === "XFSB") return "xfs";
  if (b.length >= 520 && b.subarray(512, 520).toString("latin1") === "EFI PART") return "partitioned";
  if (b.length >= 512 && b[510] === 0x55 && b[511] === 0xaa) return "partitioned";
  return "unknown";
}

/** The format of the image file at `path` (reads its first 2 KiB). */
export async function sniffImageFormat(path: string): Promise<ImageFormat> {
  const fh = await open(path, "r");
  try {
    const head = Buffer.alloc(2048);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return imageFormatOf(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}
