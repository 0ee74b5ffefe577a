/**
 * The entry model shared by Kiln's CPIO writer, reader, directory walker and
 * device-spec parser. One entry is one header of a `newc` archive.
 */

/** What an entry is; maps to the `S_IFMT` bits of the header's mode. */
export type CpioEntryType = "file" | "dir" | "symlink" | "char" | "block" | "fifo" | "socket";

/**
 * One archive member.
 *
 * Paths are relative to the archive root, `/`-separated, with no leading `/`
 * or `./` (`bin/busybox`). The root directory itself is not an entry: Linux's
 * `usr/gen_initramfs.sh` lists a directory with `find -mindepth 1`, and both
 * the kernel (`init/initramfs.c`) and Unikraft's `ukcpio` extract into an
 * already existing root.
 */
export interface CpioEntry {
  path: string;
  type: CpioEntryType;
  /** Permission bits including setuid/setgid/sticky (masked with 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Modification time, seconds since the epoch (newc stores 32 bits unsigned). */
  mtimeSec: number;
  /** Size of a regular file's content; at most 4 GiB − 1 (newc's 32-bit field). */
  sizeBytes?: number;
  /** Target of a symlink (stored as the entry's data). */
  linkTarget?: string;
  /** Device numbers of a `char` or `block` node. */
  rdevMajor?: number;
  rdevMinor?: number;
  /**
   * Entries with the same key are hard links to one inode: they share an inode
   * number and the data is stored once, with the first link (later links are
   * headers of size 0). Linux's `init/initramfs.c` (`maybe_link`), libarchive
   * and GNU cpio extract that; Unikraft's `ukcpio` needs it, since it links
   * later names to the first and ignores their data (so GNU cpio's and
   * bsdcpio's data-with-the-last-link archives come out empty there).
   */
  hardlinkKey?: string;
  /**
   * How many links the inode has (`st_nlink`), when known: written as nlink,
   * and lets the writer emit each link in place. Without it, a group's
   * headers are held until the end (readers count links by nlink).
   */
  linkCount?: number;
  /**
   * A host file holding the content. The writer reads it straight into its
   * output buffer (the fast path used by {@link walkDirectory}).
   */
  sourcePath?: string;
  /** The content as a stream, for entries without `sourcePath`. */
  open?: () => NodeJS.ReadableStream | AsyncIterable<Uint8Array>;
}

/** An entry read back from an archive, with the header fields a writer chose. */
export interface CpioReadEntry extends CpioEntry {
  inode: number;
  nlink: number;
  /** The name exactly as stored (e.g. `./bin/sh`), before normalisation. */
  rawName: string;
}

/** `S_IFMT` values (Linux `include/uapi/linux/stat.h`). */
export const S_IFMT = 0o170000;
export const TYPE_BITS: Record<CpioEntryType, number> = {
  socket: 0o140000,
  symlink: 0o120000,
  file: 0o100000,
  block: 0o060000,
  dir: 0o040000,
  char: 0o020000,
  fifo: 0o010000,
};

/** The entry type for a mode's `S_IFMT` bits, or undefined for unknown bits. */
export function typeOfMode(mode: number): CpioEntryType | undefined {
  const fmt = mode & S_IFMT;
  for (const [t, bits] of Object.entries(TYPE_BITS)) if (bits === fmt) return t as CpioEntryType;
  return undefined;
}

/** Largest value of a newc header field (8 hex digits). */
export const NEWC_FIELD_MAX = 0xffffffff;
