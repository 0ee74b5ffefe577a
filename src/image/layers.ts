/**
 * Apply tar archives (plain tarballs or OCI/Docker image layers) to a staged
 * tree, without root and without ever writing outside it.
 *
 * Layers follow the OCI image spec's changeset rules
 * (image-spec/layer.md "Whiteouts"): `.wh.NAME` deletes NAME from lower
 * layers, `.wh..wh..opq` makes its directory opaque (lower-layer children
 * hidden, this layer's kept, whatever the order inside the tar).
 *
 * Safety policy (documented in the README): an entry whose name is absolute
 * or contains `..`, a hard link whose target is, and any entry whose parent
 * path passes through a symlink are *rejected* with `ROOTFS_PATH_ESCAPE`
 * naming the entry. Rejecting rather than resolving in-scope (Docker's
 * `FollowSymlinkInScope`) keeps the rule simple to state and check; real
 * layers name files by their real paths, so it does not bite in practice.
 * Device nodes and FIFOs are recorded in the tree's metadata, never created.
 */
import {
  closeSync,
  createReadStream,
  fchmodSync,
  ftruncateSync,
  futimesSync,
  lstatSync,
  openSync,
  rmSync,
  writeSync,
} from "node:fs";
import { chmod, link, lstat, mkdir, open, readdir, rm, symlink, utimes } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extract, type Header as Headers } from "tar-stream";
import { KilnError } from "../core/errors.js";
import type { Reporter } from "../core/output.js";
import { sparseOf, writeSparseData } from "./tar-sparse.js";
import { forgetMetadata, resolveInScope, type StagedTree } from "./tree.js";

export interface ApplyTarOptions {
  /** Honour `.wh.` whiteouts and opaque markers (image layers); plain tarballs: false. */
  whiteouts: boolean;
  /** What to call the archive in errors and progress (`layer 2/3 sha256:ab12…`). */
  label: string;
  reporter?: Reporter;
  signal?: AbortSignal;
  /**
   * Refuse a file larger than this from its header, before writing it (the
   * output format's limit: CPIO newc holds at most 4 GiB - 1), so a small
   * compressed archive cannot stage gigabytes first (issue 9: a gzip bomb).
   */
  maxFileBytes?: number;
}

/** Directory modes and times applied once all layers are in (writing into a dir changes its mtime). */
export interface PendingDirs {
  modes: Map<string, { mode: number; mtimeSec: number }>;
}

export function pendingDirs(): PendingDirs {
  return { modes: new Map() };
}

/**
 * Normalise a tar member name to a relative `/`-separated path (`""` for the
 * root itself), or throw `ROOTFS_PATH_ESCAPE` for absolute names and `..`.
 */
export function normaliseEntryName(name: string, label: string): string {
  if (name.startsWith("/")) throw escapeError(name, label, "is an absolute path");
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw escapeError(name, label, "contains '..'");
  return parts.join("/");
}

function escapeError(name: string, label: string, why: string): KilnError {
  return new KilnError(
    "ROOTFS_PATH_ESCAPE",
    `entry "${name}" in ${label} ${why}, so it would land outside the root`,
    {
      hint: "Kiln rejects archive entries that would escape the root filesystem; fix or rebuild the archive",
    },
  );
}

/** Open a tar file, gunzipping it when it starts with the gzip magic. */
async function openTar(path: string, label: string): Promise<NodeJS.ReadableStream> {
  const fh = await open(path, "r");
  const magic = Buffer.alloc(4);
  try {
    await fh.read(magic, 0, 4, 0);
  } finally {
    await fh.close();
  }
  const raw = createReadStream(path);
  if (magic[0] === 0x1f && magic[1] === 0x8b) return raw.pipe(createGunzip());
  if (magic.readUInt32LE(0) === 0xfd2fb528) {
    raw.destroy();
    throw new KilnError("ROOTFS_UNSUPPORTED", `${label} is zstd-compressed, which Kiln cannot read yet`, {
      hint: "use a gzip or uncompressed image (e.g. push with skopeo --dest-compress-format gzip)",
    });
  }
  return raw;
}

/**
 * Apply the tar (or tar.gz) at `path` to `tree`. Returns the number of
 * entries applied. Directory modes go into `dirs` for {@link finishDirs}.
 */
export async function applyTarFile(
  path: string,
  tree: StagedTree,
  dirs: PendingDirs,
  opts: ApplyTarOptions,
): Promise<number> {
  const input = await openTar(path, opts.label);
  const ex = extract();
  const applier = new LayerApplier(tree, dirs, opts);
  const progress = opts.reporter?.progress(opts.label);
  let count = 0;
  const consume = (async () => {
    for await (const entry of ex) {
      if (opts.signal?.aborted) throw new KilnError("INTERRUPTED", "interrupted");
      await applier.apply(entry.header, entry);
      entry.resume();
      count++;
      if (count % 500 === 0) progress?.update("entries", count);
    }
  })();
  try {
    await Promise.all([pipeline(input, ex), consume]);
  } catch (e) {
    ex.destroy();
    if (e instanceof KilnError) throw e;
    throw new KilnError("ROOTFS_BAD_ARCHIVE", `cannot read ${opts.label}: ${(e as Error).message}`, {
      cause: e,
      hint: "check that the file is a tar or tar.gz archive",
    });
  }
  await applier.finishOpaque();
  progress?.done(`${count} entries`);
  return count;
}

class LayerApplier {
  /** Paths written by this layer (opaque markers keep them). */
  private readonly written = new Set<string>();
  private readonly opaque: string[] = [];
  /** Directories known to be real (non-symlink) directories in this layer. */
  private readonly safeDirs = new Set<string>([""]);

  constructor(
    private readonly tree: StagedTree,
    private readonly dirs: PendingDirs,
    private readonly opts: ApplyTarOptions,
  ) {}

  async apply(h: Headers, data: AsyncIterable<unknown>): Promise<void> {
    const sparse = sparseOf(h, this.opts.label);
    if (h.type === null || h.type === undefined) {
      // tar-stream maps typeflags it does not know to null; old GNU sparse files (`S`) are one,
      // and writing their stored bytes as a regular file gives the wrong file (issue 9).
      throw new KilnError(
        "ROOTFS_UNSUPPORTED",
        `entry "${h.name}" in ${this.opts.label} has a tar entry type Kiln does not know (such as an old GNU sparse file)`,
        { hint: "re-create the archive without --sparse, or as PAX sparse 1.0 (tar --sparse --format=pax)" },
      );
    }
    const rel = normaliseEntryName(sparse ? sparse.name : h.name, this.opts.label);
    const slash = rel.lastIndexOf("/");
    const parent = slash === -1 ? "" : rel.slice(0, slash);
    const base = slash === -1 ? rel : rel.slice(slash + 1);
    if (this.opts.whiteouts && base.startsWith(".wh.")) {
      await this.ensureParents(parent, h.name);
      if (base === ".wh..wh..opq") this.opaque.push(parent);
      else if (!base.startsWith(".wh..wh.")) {
        const victim = base.slice(4);
        // `.wh.` alone, `.wh..` and `.wh...` would name the directory itself or its parent
        // (issue 9: `.wh...` deleted Kiln's staging directory): no real file has those names.
        if (victim === "" || victim === "." || victim === "..") {
          throw escapeError(
            h.name,
            this.opts.label,
            `is a whiteout for "${victim}", which is not a file name`,
          );
        }
        await this.remove(parent ? `${parent}/${victim}` : victim);
      }
      // other `.wh..wh.` names are AUFS bookkeeping (e.g. `.wh..wh.plnk`): ignored, as Docker does
      return;
    }
    if (rel === "") {
      if (h.type === "directory")
        this.dirs.modes.set("", { mode: (h.mode ?? 0o755) & 0o7777, mtimeSec: mtimeOf(h) });
      return;
    }
    await this.ensureParents(parent, h.name);
    const target = join(this.tree.dir, rel);
    this.written.add(rel);
    const mode = (h.mode ?? 0o644) & 0o7777;
    const uid = h.uid ?? 0;
    const gid = h.gid ?? 0;
    forgetMetadata(this.tree, rel);
    if (uid !== 0 || gid !== 0) this.tree.owners.set(rel, { uid, gid });
    switch (h.type) {
      case "directory": {
        const st = await lstat(target).catch(() => undefined);
        if (st && !st.isDirectory()) await rm(target, { force: true });
        if (!st?.isDirectory()) await mkdir(target, { mode: 0o755 });
        // Until the end the directory stays writable by us; its real mode comes later.
        await chmod(target, 0o755);
        this.safeDirs.add(rel);
        this.dirs.modes.set(rel, { mode, mtimeSec: mtimeOf(h) });
        return;
      }
      case "file":
      case "contiguous-file": {
        const sizeBytes = sparse ? sparse.realSizeBytes : (h.size ?? 0);
        if (this.opts.maxFileBytes !== undefined && sizeBytes > this.opts.maxFileBytes) {
          throw new KilnError(
            "CPIO_ENTRY_TOO_LARGE",
            `entry "${sparse?.name ?? h.name}" in ${this.opts.label} is ${sizeBytes} bytes, more than the newc limit of ${this.opts.maxFileBytes} (4 GiB - 1)`,
            {
              hint: "CPIO newc cannot hold files of 4 GiB or more; use an ext4 or EROFS image for this tree",
            },
          );
        }
        this.clearSync(target, rel);
        // Synchronous calls: one file is a handful of syscalls, and a thread-pool round trip
        // for each made unpacking several times slower (measured on a 3,000-file tarball).
        const fd = openSync(target, "wx", 0o600);
        try {
          if (sparse) {
            await writeSparseData(fd, data, sparse, h.name, this.opts.label);
            ftruncateSync(fd, sparse.realSizeBytes);
          } else for await (const chunk of data) writeAll(fd, chunk as Uint8Array);
          fchmodSync(fd, mode | 0o400);
          futimesSync(fd, mtimeOf(h), mtimeOf(h));
        } finally {
          closeSync(fd);
        }
        if ((mode & 0o400) === 0) this.tree.modes.set(rel, mode);
        return;
      }
      case "link": {
        const linkname = h.linkname ?? "";
        if (linkname.startsWith("/") || linkname.split("/").includes("..")) {
          throw escapeError(h.name, this.opts.label, `is a hard link to "${linkname}", outside the root`);
        }
        const linkRel = normaliseEntryName(linkname, this.opts.label);
        const from = join(this.tree.dir, linkRel);
        const st = await lstat(from).catch(() => undefined);
        const lslash = linkRel.lastIndexOf("/");
        await this.ensureParents(lslash === -1 ? "" : linkRel.slice(0, lslash), h.name);
        if (!st || st.isDirectory() || linkRel === "") {
          throw new KilnError(
            "ROOTFS_BAD_ARCHIVE",
            `hard link "${h.name}" in ${this.opts.label} points to "${h.linkname}", which is not an earlier file`,
          );
        }
        await this.clear(target, rel);
        await link(from, target);
        return;
      }
      case "symlink":
        await this.clear(target, rel);
        await symlink(h.linkname ?? "", target);
        return;
      case "character-device":
      case "block-device":
      case "fifo":
        await this.clear(target, rel);
        this.tree.specials.set(rel, {
          path: rel,
          type: h.type === "fifo" ? "fifo" : h.type === "block-device" ? "block" : "char",
          mode,
          uid,
          gid,
          major: h.devmajor ?? 0,
          minor: h.devminor ?? 0,
          mtimeSec: mtimeOf(h),
        });
        return;
      default:
        // pax/GNU headers are consumed by tar-stream; anything else is skipped.
        this.written.delete(rel);
        return;
    }
  }

  /**
   * Make sure every component of `parent` is a real directory inside the
   * root, creating missing ones; a symlink on the way is an escape.
   */
  private async ensureParents(parent: string, name: string): Promise<void> {
    if (this.safeDirs.has(parent)) return;
    let sofar = "";
    for (const part of parent.split("/")) {
      sofar = sofar ? `${sofar}/${part}` : part;
      if (this.safeDirs.has(sofar)) continue;
      const p = join(this.tree.dir, sofar);
      const st = await lstat(p).catch(() => undefined);
      if (st?.isSymbolicLink()) {
        throw escapeError(name, this.opts.label, `would be written through the symlink "${sofar}"`);
      }
      if (st && !st.isDirectory()) {
        throw new KilnError(
          "ROOTFS_BAD_ARCHIVE",
          `entry "${name}" in ${this.opts.label} needs "${sofar}" to be a directory, but it is a file`,
        );
      }
      if (!st) await mkdir(p, { mode: 0o755 });
      this.safeDirs.add(sofar);
    }
  }

  /** Remove whatever is at `target` so a new entry can take its place. */
  private clearSync(target: string, rel: string): void {
    const st = lstatSync(target, { throwIfNoEntry: false });
    if (!st) return;
    rmSync(target, { recursive: st.isDirectory(), force: true });
    if (st.isDirectory()) this.dropSafe(rel);
  }

  private async clear(target: string, rel: string): Promise<void> {
    // lstat first: most entries are new, and a recursive rm of nothing is not free.
    const st = await lstat(target).catch(() => undefined);
    if (!st) return;
    await rm(target, { recursive: st.isDirectory(), force: true });
    if (st.isDirectory()) this.dropSafe(rel);
  }

  private async remove(rel: string): Promise<void> {
    // Only ever delete through real directories inside the root: a later entry may have turned a
    // parent into a symlink (to the host), and rm would follow it there.
    const slash = rel.lastIndexOf("/");
    if (!(await this.isRealDir(slash === -1 ? "" : rel.slice(0, slash)))) return;
    await rm(join(this.tree.dir, rel), { recursive: true, force: true });
    forgetMetadata(this.tree, rel);
    this.dirs.modes.delete(rel);
    this.dropSafe(rel);
  }

  /**
   * Whether `rel` is a directory reached from the root through real directories only (no
   * component a symlink), as `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS)` would resolve it.
   */
  private async isRealDir(rel: string): Promise<boolean> {
    let sofar = this.tree.dir;
    for (const part of rel ? rel.split("/") : []) {
      sofar = join(sofar, part);
      const st = await lstat(sofar).catch(() => undefined);
      if (!st?.isDirectory()) return false;
    }
    return true;
  }

  private dropSafe(rel: string): void {
    for (const d of this.safeDirs) if (d === rel || d.startsWith(`${rel}/`)) this.safeDirs.delete(d);
  }

  /** Hide lower-layer children of opaque directories (this layer's entries stay). */
  async finishOpaque(): Promise<void> {
    for (const dir of this.opaque) await this.prune(dir);
  }

  private async prune(dir: string): Promise<void> {
    // The opaque directory may since have become a symlink (a -> /host/dir after a/.wh..wh..opq):
    // then there is nothing of the lower layers left to hide, and listing through it would reach the host.
    const names = (await this.isRealDir(dir))
      ? await readdir(join(this.tree.dir, dir)).catch(() => [] as string[])
      : [];
    for (const name of names) {
      const rel = dir ? `${dir}/${name}` : name;
      if (!this.written.has(rel)) await this.remove(rel);
      else if (await this.isRealDir(rel)) await this.prune(rel);
    }
    // Specials are not on disk; prune those too.
    for (const k of [...this.tree.specials.keys()]) {
      if (k.startsWith(dir ? `${dir}/` : "") && !this.written.has(k)) this.tree.specials.delete(k);
    }
  }
}

function writeAll(fd: number, buf: Uint8Array): void {
  for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
}

function mtimeOf(h: Headers): number {
  return h.mtime ? Math.floor(h.mtime.getTime() / 1000) : 0;
}

/** Apply recorded directory modes and times, deepest first. */
export async function finishDirs(tree: StagedTree, dirs: PendingDirs): Promise<void> {
  const list = [...dirs.modes.entries()].sort((a, b) => b[0].length - a[0].length);
  for (const [rel, { mode, mtimeSec }] of list) {
    const p = rel ? join(tree.dir, rel) : tree.dir;
    // A later layer may have replaced a parent with a symlink: only touch what is still a real
    // directory reached through real directories, never something a symlink points at.
    if (rel && (await resolveInScope(tree.dir, rel, false)).guest !== `/${rel}`) continue;
    const st = await lstat(p).catch(() => undefined);
    if (!st?.isDirectory()) continue;
    // Keep u+rwx on the host so the format tools (and cleanup) can read and delete it;
    // the image gets the recorded mode through the tree's metadata.
    await chmod(p, mode | 0o700);
    if ((mode & 0o700) !== 0o700) tree.modes.set(rel, mode);
    await utimes(p, mtimeSec, mtimeSec);
  }
}
