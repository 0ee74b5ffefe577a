/**
 * ext4 images with e2fsprogs, never a mount, never root.
 *
 * `mkfs.ext4 -d DIR` (e2fsprogs' `misc/create_inode.c`) copies the staging
 * tree, taking owners, modes and times from the host files. Whatever the host
 * cannot hold — root ownership when Kiln runs unprivileged, owners recorded
 * from archives, device nodes, modes without u+r — is fixed afterwards in
 * one `debugfs -w -f CMDS` batch (`set_inode_field`, `mknod`); reproducible
 * atime/ctime/mtime are written into the inode tables (ext4-times.ts). Debian 12's e2fsprogs is 1.47.0, which
 * cannot yet read a tarball for `-d` (that arrived in 1.47.1).
 *
 * The fix-up pass costs ~1 s per 40,000 commands, so Kiln avoids needing
 * it: run unprivileged, it runs mkfs.ext4 in a user namespace where the
 * builder's own files already read as root's (`core/userns.ts`), leaving
 * fix-ups only for what differs from that (other owners, device nodes).
 */
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { KilnError } from "../core/errors.js";
import { exec, requireTool } from "../core/exec.js";
import type { Reporter } from "../core/output.js";
import { formatBytes } from "../core/units.js";
import { ownerInNamespace, userNamespaceView } from "../core/userns.js";
import { ext4ExpectedAllocatedBytes, watchExt4Image } from "./ext4-progress.js";
import { stampExt4Times } from "./ext4-times.js";
import { type StagedTree, type WalkedEntry, walkTreeSync } from "./tree.js";

export interface MakeExt4Options {
  tree: StagedTree;
  /** Where to write the image (a temporary path; the caller renames). */
  output: string;
  /** Image size; default: content plus headroom ({@link estimateExt4Size}). */
  sizeBytes?: number;
  /** Filesystem UUID; with `epochSec` and none given, derived from the content. */
  uuid?: string;
  /** Reproducible build: all timestamps ≤ this, fixed UUID and hash seed. */
  epochSec?: number;
  /** For directory sources: keep the host owners instead of root:root. */
  keepOwner?: boolean;
  /**
   * More debugfs commands in the same pass: `preCommands` before the
   * fix-ups (a device spec's directories and removals, `device-spec.ts`),
   * `extraCommands` after them (guest set-up, `guest-setup-image.ts`).
   */
  preCommands?: string[];
  extraCommands?: string[];
  /** Scratch directory for the debugfs command file. */
  workDir: string;
  reporter?: Reporter;
}

export interface Ext4Result {
  sizeBytes: number;
  uuid: string | undefined;
  inodes: number;
  fixups: number;
}

/** What the size estimate needs to know about a tree. */
export interface TreeStats {
  entries: number;
  /** 4 KiB blocks of file and directory data (hard links counted once). */
  dataBlocks: number;
}

const MiB = 1024 * 1024;

/**
 * Inodes to ask for: entries plus 30 % and a few hundred spare, and with the
 * image's size, at least what mke2fs would give it (`inode_ratio` 16384 in
 * mke2fs.conf's defaults): the guest's free space needs inodes too — a
 * busybox tree's `busybox --install -s` alone makes ~400 symlinks.
 */
export function ext4InodeCount(stats: TreeStats, sizeBytes = 0): number {
  return Math.max(Math.ceil(stats.entries * 1.3) + 256, Math.floor(sizeBytes / 16384));
}

/**
 * Image size for a tree: data (+10 % for extent trees and directory
 * growth), the inode table (256-byte inodes), the journal mke2fs would
 * pick (`ext2fs_default_journal_size`: 4 MiB under 128 MiB, 16 MiB under
 * 1 GiB, then 32/64 MiB) and 16 MiB free for the guest, grown by the 5 %
 * mke2fs reserves for root; rounded up to whole MiB.
 */
export function estimateExt4Size(stats: TreeStats): number {
  const base = stats.dataBlocks * 4096 * 1.1 + ext4InodeCount(stats) * 256;
  const journal =
    base < 128 * MiB ? 4 * MiB : base < 1024 * MiB ? 16 * MiB : base < 2048 * MiB ? 32 * MiB : 64 * MiB;
  const total = (base + journal + 16 * MiB) / 0.95;
  return Math.ceil(total / MiB) * MiB;
}

/** A UUID (RFC 9562 version 4 layout) derived from a digest, for reproducible images. */
export function uuidFromDigest(digest: Buffer): string {
  const b = Buffer.from(digest.subarray(0, 16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Check a user-given UUID; throws `ROOTFS_BAD_UUID`. */
export function checkUuid(uuid: string): string {
  if (!UUID_RE.test(uuid)) {
    throw new KilnError(
      "ROOTFS_BAD_UUID",
      `UUID "${uuid}" is not of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`,
      { hint: "give 32 hex digits in that layout (e.g. from uuidgen), or leave --uuid out" },
    );
  }
  return uuid.toLowerCase();
}

/** Quote a path for debugfs' command parser (libss: double quotes group words). */
export function debugfsQuote(path: string): string {
  if (/["\n\r]/.test(path)) {
    throw new KilnError(
      "ROOTFS_UNSUPPORTED",
      `file name "${path}" contains a double quote or a newline, which debugfs cannot address`,
      { hint: "rename the file, or build as root with --keep-owner so no fix-up is needed" },
    );
  }
  return `"${path}"`;
}
const q = debugfsQuote;

const TYPE_BITS = {
  file: 0o100000,
  dir: 0o040000,
  symlink: 0o120000,
  char: 0o020000,
  block: 0o060000,
  fifo: 0o010000,
  socket: 0o140000,
};

/** Scratch name for making a socket (debugfs' mknod knows only p, c and b). */
const SOCKET_TMP = ".kiln-socket-tmp";

/**
 * The debugfs commands that make the image say what the tree means (pure):
 * owners, modes the host copy could not carry, and device nodes. Reproducible
 * timestamps are not among them: {@link stampExt4Times} writes those straight
 * into the inode tables afterwards (ext4-times.ts says why).
 */
export function planExt4Fixups(
  entries: readonly WalkedEntry[],
  tree: Pick<StagedTree, "owners" | "ownersRecorded" | "specials" | "modes">,
  opts: { keepOwner?: boolean; epochSec?: number },
): string[] {
  const cmds: string[] = [];
  for (const e of entries) {
    const p = q(`/${e.path}`);
    const want = tree.owners.get(e.path) ?? (!tree.ownersRecorded && opts.keepOwner ? e : { uid: 0, gid: 0 });
    if (want.uid !== e.uid) cmds.push(`sif ${p} uid ${want.uid}`);
    if (want.gid !== e.gid) cmds.push(`sif ${p} gid ${want.gid}`);
    const mode = tree.modes.get(e.path);
    if (mode !== undefined && e.type !== "other")
      cmds.push(`sif ${p} mode 0${(TYPE_BITS[e.type] | mode).toString(8)}`);
  }
  for (const s of [...tree.specials.values()].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const slash = s.path.lastIndexOf("/");
    const parent = slash === -1 ? "/" : `/${s.path.slice(0, slash)}`;
    const name = s.path.slice(slash + 1);
    const p = q(`/${s.path}`);
    // debugfs' mknod creates NAME in the current directory, so cd there first.
    cmds.push(`cd ${q(parent)}`);
    if (s.type === "socket") {
      // No mknod for sockets: make a FIFO under a scratch name, give it the socket's type bits,
      // then `link` it (which takes the directory entry's file type from the inode's mode, so
      // e2fsck finds them agreeing) and `unlink` the scratch name (neither changes the link count).
      cmds.push(
        `mknod ${SOCKET_TMP} p`,
        `sif ${SOCKET_TMP} mode 0${(TYPE_BITS.socket | s.mode).toString(8)}`,
      );
      cmds.push(`link ${SOCKET_TMP} ${q(name)}`, `unlink ${SOCKET_TMP}`);
    } else {
      cmds.push(
        s.type === "fifo"
          ? `mknod ${q(name)} p`
          : `mknod ${q(name)} ${s.type === "char" ? "c" : "b"} ${s.major} ${s.minor}`,
      );
    }
    cmds.push(`cd "/"`);
    cmds.push(`sif ${p} mode 0${(TYPE_BITS[s.type] | s.mode).toString(8)}`);
    if (s.uid !== 0) cmds.push(`sif ${p} uid ${s.uid}`);
    if (s.gid !== 0) cmds.push(`sif ${p} gid ${s.gid}`);
    const t = opts.epochSec === undefined ? s.mtimeSec : Math.min(s.mtimeSec, opts.epochSec);
    cmds.push(`sif ${p} mtime @${t}`, `sif ${p} atime @${t}`, `sif ${p} ctime @${t}`);
  }
  return cmds;
}

/** Build an ext4 image of `tree` at `output`. */
export async function makeExt4(opts: MakeExt4Options): Promise<Ext4Result> {
  const mkfs = requireTool("mkfs.ext4", "make an ext4 image");
  const entries: WalkedEntry[] = [];
  const seen = new Set<number>();
  // Only a reproducible image without a given UUID derives one from the content.
  const digest = opts.epochSec !== undefined && opts.uuid === undefined ? createHash("sha256") : undefined;
  let dataBlocks = 0;
  for (const e of walkTreeSync(opts.tree.dir)) {
    // A file a device spec turns into a node is removed from the image (preCommands): no fix-ups for it.
    if (!opts.tree.specials.has(e.path)) entries.push(e);
    if (e.type === "dir") dataBlocks++;
    else if (e.type === "file" && !(e.nlink > 1 && seen.has(e.ino))) {
      if (e.nlink > 1) seen.add(e.ino);
      dataBlocks += Math.ceil(e.sizeBytes / 4096);
    } else if (e.type === "symlink" && e.sizeBytes > 59) dataBlocks++;
    // Clamped as the image will have it, so touching the source changes no derived UUID.
    const mtimeSec = opts.epochSec === undefined ? e.mtimeSec : Math.min(e.mtimeSec, opts.epochSec);
    digest?.update(`${e.path}\0${e.type}\0${e.mode}\0${e.sizeBytes}\0${mtimeSec}\n`);
  }
  const stats = { entries: entries.length + opts.tree.specials.size, dataBlocks };
  const sizeBytes = opts.sizeBytes ?? estimateExt4Size(stats);
  const contentBytes = stats.dataBlocks * 4096 + ext4InodeCount(stats) * 256;
  if (sizeBytes < contentBytes) {
    throw new KilnError(
      "ROOTFS_TOO_SMALL",
      `ext4 size ${formatBytes(sizeBytes)} is smaller than the content (${formatBytes(contentBytes)} of data and inodes)`,
      {
        hint: `give --size of at least ${formatBytes(estimateExt4Size(stats))}, or leave it out to size the image automatically`,
      },
    );
  }
  const uuid =
    opts.uuid !== undefined ? checkUuid(opts.uuid) : digest ? uuidFromDigest(digest.digest()) : undefined;
  const ext = ["root_owner=0:0", ...(uuid ? [`hash_seed=${uuid}`] : [])].join(",");
  const argv = [
    mkfs,
    "-q",
    "-F",
    "-T",
    "default",
    "-L",
    "rootfs",
    "-N",
    String(ext4InodeCount(stats, sizeBytes)),
  ];
  if (uuid) argv.push("-U", uuid);
  argv.push("-E", ext, "-d", opts.tree.dir, opts.output, `${Math.ceil(sizeBytes / 1024)}k`);
  // Unprivileged and wanting root owners (not --keep-owner of a plain directory): mkfs.ext4 in a
  // user namespace sees the builder's files as root's (others as the overflow id). Take whichever
  // view leaves fewer fix-ups: the namespace for the builder's own tree, the host's for a tree
  // root already owns.
  const planOpts = { keepOwner: opts.keepOwner, epochSec: opts.epochSec };
  let cmds = planExt4Fixups(entries, opts.tree, planOpts);
  const hostOwnersWanted = opts.keepOwner === true && !opts.tree.ownersRecorded;
  const userns = hostOwnersWanted || cmds.length === 0 ? undefined : await userNamespaceView();
  if (userns) {
    const seen = entries.map((e) => ({ ...e, ...ownerInNamespace(userns, e) }));
    const nsCmds = planExt4Fixups(seen, opts.tree, planOpts);
    if (nsCmds.length < cmds.length) {
      argv.unshift(...userns.prefix);
      cmds = nsCmds;
    }
  }
  // E2FSPROGS_FAKE_TIME fixes the superblock and inode creation times (lib/ext2fs: fs->now).
  const env =
    opts.epochSec === undefined
      ? process.env
      : { ...process.env, E2FSPROGS_FAKE_TIME: String(opts.epochSec) };
  const progress = opts.reporter?.progress("ext4");
  progress?.update(`mkfs.ext4 (${entries.length} entries)`);
  // mkfs.ext4 -d is silent for minutes on a large tree: watch the image grow (ext4-progress.ts).
  const stopWatch = progress
    ? watchExt4Image(
        opts.output,
        ext4ExpectedAllocatedBytes(stats.dataBlocks, ext4InodeCount(stats, sizeBytes), sizeBytes),
        (m) => progress.update(m),
      )
    : undefined;
  try {
    await exec(argv, {
      env,
      hint:
        opts.sizeBytes === undefined
          ? "this may be a Kiln size-estimate bug; retry with a larger --size"
          : "the content may not fit: give a larger --size",
    });
  } finally {
    stopWatch?.();
  }
  cmds = [...(opts.preCommands ?? []), ...cmds, ...(opts.extraCommands ?? [])];
  if (cmds.length > 0) {
    progress?.update(`debugfs: ${cmds.length} fix-ups`);
    const debugfs = requireTool("debugfs", "set owners and device nodes in the ext4 image");
    const cmdFile = join(opts.workDir, "debugfs.cmds");
    await writeFile(cmdFile, `${cmds.join("\n")}\n`);
    const r = await exec([debugfs, "-w", "-f", cmdFile, opts.output], { env, cwd: dirname(opts.output) });
    // debugfs reports failed commands on stderr but still exits 0; any such line is an error.
    const problems = r.stderr
      .split("\n")
      .filter((l) => l.trim() !== "" && !/^debugfs \d/.test(l) && !/^Allocated inode/.test(l));
    if (problems.length > 0) {
      throw new KilnError(
        "ROOTFS_EXT4_FIXUP",
        `debugfs could not apply ${problems.length} fix-up(s) to the ext4 image`,
        {
          details: problems.slice(0, 10).map((l) => `  | ${l}`),
        },
      );
    }
  }
  if (opts.epochSec !== undefined) {
    // mkfs.ext4 -d copied the host's atime/ctime and unclamped mtimes (create_inode.c
    // set_inode_extra): pin them in the inode tables, after debugfs so nothing it wrote escapes.
    progress?.update("timestamps");
    await stampExt4Times(opts.output, opts.epochSec);
  }
  progress?.done(`${entries.length} entries, ${cmds.length} fix-ups`);
  return { sizeBytes, uuid, inodes: stats.entries, fixups: cmds.length };
}
