/**
 * Reproducible timestamps in an ext4 image, written straight into its inode
 * tables instead of through debugfs.
 *
 * `mkfs.ext4 -d` (e2fsprogs 1.47.0, misc/create_inode.c set_inode_extra)
 * copies each host file's atime, ctime and mtime into the image, so two
 * builds of the same tree differ wherever the host's atime or ctime did.
 * Kiln used to fix that with `sif PATH atime|ctime|mtime` in a debugfs
 * batch: three commands per entry, ~1.5 s for 20,000 files, doubling the
 * build. This pass reads the superblock and group descriptors, walks the
 * inode bitmap of each group, and for every inode in use (the root and
 * every inode from `s_first_ino` on) sets atime and ctime to the epoch and
 * clamps a later mtime to it, then recomputes the inode's metadata_csum
 * checksum (crc32c, as the kernel's ext4_inode_csum() and e2fsprogs'
 * ext2fs_inode_csum() do). Bitmaps, group descriptors and the superblock
 * are not touched, so their checksums stay valid. Layout facts from the
 * kernel's Documentation/filesystems/ext4/{super,group_descr,inodes}.rst.
 */
import { open } from "node:fs/promises";
import { KilnError } from "../core/errors.js";

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** crc32c (Castagnoli) without the final inversion, as ext4's checksums use it. */
export function crc32cRaw(seed: number, data: Uint8Array): number {
  let c = seed >>> 0;
  for (let i = 0; i < data.length; i++) c = (CRC32C_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8)) >>> 0;
  return c;
}

const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};

// Superblock (at byte 1024) and inode field offsets.
const SB = {
  inodesCount: 0x0,
  logBlockSize: 0x18,
  inodesPerGroup: 0x28,
  magic: 0x38,
  firstIno: 0x54,
  inodeSize: 0x58,
  featureIncompat: 0x60,
  featureRoCompat: 0x64,
  uuid: 0x68,
  descSize: 0xfe,
  checksumSeed: 0x270,
} as const;
const INCOMPAT_64BIT = 0x80;
const INCOMPAT_CSUM_SEED = 0x2000;
const RO_COMPAT_METADATA_CSUM = 0x400;
const BG_INODE_UNINIT = 0x1;
const I = {
  atime: 0x08,
  ctime: 0x0c,
  mtime: 0x10,
  generation: 0x64,
  checksumLo: 0x7c,
  extraIsize: 0x80,
  checksumHi: 0x82,
  ctimeExtra: 0x84,
  mtimeExtra: 0x88,
  atimeExtra: 0x8c,
} as const;

/** What the pass changed. */
export interface Ext4TimesResult {
  /** Inodes examined (in use, the root or from s_first_ino on). */
  inodes: number;
  /** Inodes whose bytes changed. */
  changed: number;
}

/**
 * Sets atime and ctime of every user inode of the ext4 image at `path` to
 * `epochSec` and clamps later mtimes to it, keeping inode checksums valid.
 */
export async function stampExt4Times(path: string, epochSec: number): Promise<Ext4TimesResult> {
  const fh = await open(path, "r+");
  try {
    const sbBuf = Buffer.alloc(1024);
    await fh.read(sbBuf, 0, 1024, 1024);
    const sb = new DataView(sbBuf.buffer, sbBuf.byteOffset, 1024);
    if (sb.getUint16(SB.magic, true) !== 0xef53) {
      throw new KilnError("ROOTFS_EXT4_LAYOUT", `${path} is not an ext4 image (no superblock magic)`);
    }
    const blockSize = 1024 << sb.getUint32(SB.logBlockSize, true);
    const inodesCount = sb.getUint32(SB.inodesCount, true);
    const perGroup = sb.getUint32(SB.inodesPerGroup, true);
    const inodeSize = sb.getUint16(SB.inodeSize, true);
    const firstIno = sb.getUint32(SB.firstIno, true);
    const incompat = sb.getUint32(SB.featureIncompat, true);
    const csum = (sb.getUint32(SB.featureRoCompat, true) & RO_COMPAT_METADATA_CSUM) !== 0;
    const descSize = incompat & INCOMPAT_64BIT ? sb.getUint16(SB.descSize, true) : 32;
    const csumSeed =
      incompat & INCOMPAT_CSUM_SEED
        ? sb.getUint32(SB.checksumSeed, true)
        : crc32cRaw(0xffffffff, sbBuf.subarray(SB.uuid, SB.uuid + 16));
    const groups = Math.ceil(inodesCount / perGroup);
    const gdtOffset = (blockSize === 1024 ? 2 : 1) * blockSize;
    const gdt = Buffer.alloc(groups * descSize);
    await fh.read(gdt, 0, gdt.length, gdtOffset);
    const result: Ext4TimesResult = { inodes: 0, changed: 0 };
    const bitmap = Buffer.alloc(Math.ceil(perGroup / 8));
    for (let g = 0; g < groups; g++) {
      const d = new DataView(gdt.buffer, gdt.byteOffset + g * descSize, descSize);
      const hi = (off: number) => (descSize >= 64 ? d.getUint32(off, true) : 0);
      if (d.getUint16(0x12, true) & BG_INODE_UNINIT) continue;
      const bitmapBlock = d.getUint32(0x4, true) + hi(0x24) * 2 ** 32;
      const tableBlock = d.getUint32(0x8, true) + hi(0x28) * 2 ** 32;
      const unused = d.getUint16(0x1c, true) + (descSize >= 64 ? d.getUint16(0x32, true) << 16 : 0);
      const used = perGroup - unused;
      if (used <= 0) continue;
      await fh.read(bitmap, 0, bitmap.length, bitmapBlock * blockSize);
      const table = Buffer.alloc(used * inodeSize);
      await fh.read(table, 0, table.length, tableBlock * blockSize);
      let dirty = false;
      for (let i = 0; i < used; i++) {
        const ino = g * perGroup + i + 1;
        if (ino !== 2 && ino < firstIno) continue;
        if (!(bitmap[i >> 3]! & (1 << (i & 7)))) continue;
        result.inodes++;
        const raw = table.subarray(i * inodeSize, (i + 1) * inodeSize);
        if (stampInode(raw, ino, epochSec, inodeSize, csum ? csumSeed : undefined)) {
          result.changed++;
          dirty = true;
        }
      }
      if (dirty) await fh.write(table, 0, table.length, tableBlock * blockSize);
    }
    return result;
  } finally {
    await fh.close();
  }
}

/** Stamps one on-disk inode in place (pure); true when its bytes changed. */
export function stampInode(
  raw: Uint8Array,
  ino: number,
  epochSec: number,
  inodeSize: number,
  csumSeed: number | undefined,
): boolean {
  const v = new DataView(raw.buffer, raw.byteOffset, inodeSize);
  const before = Buffer.from(raw);
  const extra = inodeSize > 128 ? v.getUint16(I.extraIsize, true) : 0;
  const fits = (off: number, len: number) => off + len <= 128 + extra;
  v.setUint32(I.atime, epochSec, true);
  v.setUint32(I.ctime, epochSec, true);
  // Extra fields: nanoseconds and the epoch bits of dates past 2038; the epoch needs none.
  if (fits(I.atimeExtra, 4)) v.setUint32(I.atimeExtra, 0, true);
  if (fits(I.ctimeExtra, 4)) v.setUint32(I.ctimeExtra, 0, true);
  const mtimeEpochBits = fits(I.mtimeExtra, 4) ? v.getUint32(I.mtimeExtra, true) & 3 : 0;
  const mtime = v.getUint32(I.mtime, true) + mtimeEpochBits * 2 ** 32;
  if (mtime > epochSec) {
    v.setUint32(I.mtime, epochSec, true);
    if (fits(I.mtimeExtra, 4)) v.setUint32(I.mtimeExtra, 0, true);
  }
  if (csumSeed !== undefined) {
    const hasHi = fits(I.checksumHi, 2);
    v.setUint16(I.checksumLo, 0, true);
    if (hasHi) v.setUint16(I.checksumHi, 0, true);
    let c = crc32cRaw(csumSeed, u32(ino));
    c = crc32cRaw(c, u32(v.getUint32(I.generation, true)));
    c = crc32cRaw(c, raw.subarray(0, inodeSize));
    v.setUint16(I.checksumLo, c & 0xffff, true);
    if (hasHi) v.setUint16(I.checksumHi, c >>> 16, true);
  }
  return !before.equals(raw);
}
