/**
 * A device/ownership spec (`--device-spec FILE`, the format of
 * `image/cpio/spec.ts`: `/dev/console c 5 1 0600 0 0`) applied to a staged
 * tree, for the formats that read a host directory (ext4, EROFS). Device
 * nodes and FIFOs become recorded specials (ext4: debugfs `mknod`), `d`
 * lines create or re-own directories, `f` lines set a file's mode and
 * owner; the same rules as the CPIO packer's merge (`mergeEntries`): a
 * device may replace a file but never a directory, an `f` line must name a
 * file of the tree. The tree must be Kiln's own staging copy.
 */
import type { Stats } from "node:fs";
import { chmod, lstat, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { KilnError } from "../core/errors.js";
import { readDeviceSpecFile, type SpecEntry } from "./cpio/spec.js";
import { debugfsQuote } from "./ext4.js";
import { forgetMetadata, type StagedTree } from "./tree.js";

/** Read and parse a spec file; errors say which file and, for bad lines, where. */
export async function loadDeviceSpec(path: string): Promise<SpecEntry[]> {
  return readDeviceSpecFile(path);
}

function specError(e: SpecEntry, message: string): KilnError {
  return new KilnError("CPIO_SPEC_INVALID", message, {
    location: e.location,
    hint: "each line is: PATH TYPE(c|b|p|d|f) MAJOR MINOR MODE UID GID, e.g. /dev/console c 5 1 0600 0 0",
  });
}

/**
 * Apply spec `entries` to `tree` (see the module doc). Entries are applied
 * parents first; a missing parent directory is created 0755 root:root, as
 * the CPIO packer adds it. `mtimeSec` is the time given to new entries
 * (`SOURCE_DATE_EPOCH`, else 0, as `packCpio` does).
 */
export async function applyDeviceSpec(
  tree: StagedTree,
  entries: SpecEntry[],
  mtimeSec: number,
): Promise<void> {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const e of sorted) {
    const parts = e.path.split("/");
    for (let k = 1; k < parts.length; k++) {
      const rel = parts.slice(0, k).join("/");
      const st = await lstat(join(tree.dir, rel)).catch(() => undefined);
      if (!st && tree.specials.has(rel))
        throw specError(e, `${e.path} needs /${rel} to be a directory, but it is a device node or FIFO`);
      if (!st) await mkdir(join(tree.dir, rel), { mode: 0o755 });
      else if (st.isSymbolicLink()) {
        throw specError(e, `${e.path} would be created through the symlink /${rel}`);
      } else if (!st.isDirectory()) {
        throw specError(e, `${e.path} needs /${rel} to be a directory, but it is a file`);
      }
    }
    const host = join(tree.dir, e.path);
    const st = await lstat(host).catch(() => undefined);
    const special = tree.specials.get(e.path);
    const have = existingKind(st, special, false);
    const owner = (rel: string) => setOwner(tree, rel, e);
    if (e.type === "char" || e.type === "block" || e.type === "fifo") {
      if (have === "directory") throw specError(e, `${e.path} would replace a directory of the source tree`);
      if (st) await rm(host, { force: true });
      recordNode(tree, e, e.type, mtimeSec);
    } else if (e.type === "dir") {
      if (have !== undefined && have !== "directory") {
        throw specError(e, `spec says ${e.path} is a dir, but the tree has a ${have}`);
      }
      if (!st) await mkdir(host);
      // Keep u+rwx on the host so the format tools can read it; the image gets the real mode.
      await chmod(host, e.mode | 0o700);
      if ((e.mode & 0o700) !== 0o700) tree.modes.set(e.path, e.mode);
      else tree.modes.delete(e.path);
      owner(e.path);
    } else {
      if (have !== "file")
        throw specError(e, `"f" line names ${e.path}, which is not a file of the source tree`);
      await chmod(host, e.mode | 0o400);
      if ((e.mode & 0o400) === 0) tree.modes.set(e.path, e.mode);
      else tree.modes.delete(e.path);
      owner(e.path);
    }
  }
}

/**
 * The device spec for an ext4 image of a source directory used in place
 * (never written): owners and modes go to the tree's metadata (the fix-up
 * pass applies them), device nodes and FIFOs to its specials (made with
 * debugfs `mknod`), and what the staged copy would have changed on disk —
 * missing directories, files a node replaces — becomes debugfs commands,
 * returned to run before the fix-ups. Same checks and errors as
 * {@link applyDeviceSpec}.
 */
export async function deviceSpecCommands(
  tree: StagedTree,
  entries: SpecEntry[],
  mtimeSec: number,
): Promise<string[]> {
  const q = debugfsQuote;
  const cmds: string[] = [];
  const made = new Set<string>();
  const mkdirCmds = (rel: string, mode: number, uid: number, gid: number) => {
    made.add(rel);
    cmds.push(`mkdir ${q(`/${rel}`)}`, `sif ${q(`/${rel}`)} mode 0${(0o040000 | mode).toString(8)}`);
    if (uid !== 0) cmds.push(`sif ${q(`/${rel}`)} uid ${uid}`);
    if (gid !== 0) cmds.push(`sif ${q(`/${rel}`)} gid ${gid}`);
  };
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const e of sorted) {
    const parts = e.path.split("/");
    for (let k = 1; k < parts.length; k++) {
      const rel = parts.slice(0, k).join("/");
      if (made.has(rel)) continue;
      const st = await lstat(join(tree.dir, rel)).catch(() => undefined);
      if (!st && tree.specials.has(rel))
        throw specError(e, `${e.path} needs /${rel} to be a directory, but it is a device node or FIFO`);
      if (!st) mkdirCmds(rel, 0o755, 0, 0);
      else if (st.isSymbolicLink()) {
        throw specError(e, `${e.path} would be created through the symlink /${rel}`);
      } else if (!st.isDirectory()) {
        throw specError(e, `${e.path} needs /${rel} to be a directory, but it is a file`);
      }
    }
    const st = made.has(e.path) ? undefined : await lstat(join(tree.dir, e.path)).catch(() => undefined);
    const special = tree.specials.get(e.path);
    const have = existingKind(st, special, made.has(e.path));
    const owner = (rel: string) => setOwner(tree, rel, e);
    if (e.type === "char" || e.type === "block" || e.type === "fifo") {
      if (have === "directory") throw specError(e, `${e.path} would replace a directory of the source tree`);
      // The source keeps its file; the image loses it before the node is made.
      if (st) cmds.push(`rm ${q(`/${e.path}`)}`);
      recordNode(tree, e, e.type, mtimeSec);
    } else if (e.type === "dir") {
      if (have !== undefined && have !== "directory") {
        throw specError(e, `spec says ${e.path} is a dir, but the tree has a ${have}`);
      }
      if (!st && !made.has(e.path)) mkdirCmds(e.path, e.mode, e.uid, e.gid);
      else if (made.has(e.path) && !st) {
        cmds.push(`sif ${q(`/${e.path}`)} mode 0${(0o040000 | e.mode).toString(8)}`);
        cmds.push(`sif ${q(`/${e.path}`)} uid ${e.uid}`, `sif ${q(`/${e.path}`)} gid ${e.gid}`);
      } else {
        // The host directory's mode is the source's; the image gets the spec's.
        tree.modes.set(e.path, e.mode);
        owner(e.path);
      }
    } else {
      if (have !== "file")
        throw specError(e, `"f" line names ${e.path}, which is not a file of the source tree`);
      tree.modes.set(e.path, e.mode);
      owner(e.path);
    }
  }
  return cmds;
}

/** A spec line's device node or FIFO replaces whatever the tree recorded at its path. */
function recordNode(tree: StagedTree, e: SpecEntry, type: "char" | "block" | "fifo", mtimeSec: number): void {
  forgetMetadata(tree, e.path);
  tree.specials.set(e.path, {
    path: e.path,
    type,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    major: e.rdevMajor ?? 0,
    minor: e.rdevMinor ?? 0,
    mtimeSec,
  });
}

/** What a spec line finds at its path: the staged tree's entry, or a recorded special (pure). */
function existingKind(
  st: Stats | undefined,
  special: { type: string } | undefined,
  madeHere: boolean,
): string | undefined {
  if (madeHere || st?.isDirectory()) return "directory";
  if (st?.isSymbolicLink()) return "symlink";
  if (st) return "file";
  return special?.type;
}

/** Record a spec line's owner for `rel` (root's is the default and is not stored). */
function setOwner(
  tree: { owners: Map<string, { uid: number; gid: number }> },
  rel: string,
  e: { uid: number; gid: number },
): void {
  if (e.uid !== 0 || e.gid !== 0) tree.owners.set(rel, { uid: e.uid, gid: e.gid });
  else tree.owners.delete(rel);
}
