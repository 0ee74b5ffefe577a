/**
 * Sharing identical build outputs between the targets of one project, and
 * breaking the sharing before make writes into a target's directory again.
 *
 * Each target compiles in its own build directory (`artifacts.ts`), so two
 * targets of one architecture (app-sqlite's initrd and 9pfs variants) hold
 * two copies of every library object that came out the same — measured on
 * app-sqlite, ~1.2 GiB of musl per target. After a build, {@link shareBuildDirs}
 * replaces each file that is byte-for-byte identical to the same path in
 * another target's directory with a hard link to one copy.
 *
 * Hard links are only safe while nobody writes through them: gcc and as
 * open their output with O_TRUNC and write in place, so a rebuilt object in
 * one target would silently change the other's. Hence {@link unshareBuildDir}
 * runs before any make in a target's directory: each file it shared becomes
 * a private copy again (copy, then rename over the link), with the
 * modification time that target's build gave it, so make sees exactly the
 * directory it left. Kiln's no-op path runs no make and needs no unsharing.
 *
 * Kiln's own files (`.kiln-*`) never take part, nor what the caller
 * excludes: `kiln build` leaves out the files whose inode and ctime the build
 * fingerprint records (the images, the defconfig, archives seeded into the
 * build directory) and the initrd it packs itself.
 */
import { constants, existsSync } from "node:fs";
import { copyFile, link, lstat, open, readdir, readFile, rename, rm, utimes } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { tempPathFor, writeFileAtomic } from "../core/fs.js";
import type { Reporter } from "../core/output.js";
import { formatBytes } from "../core/units.js";
import type { Architecture, Project, Target } from "../kraftfile/types.js";
import { targetArtifacts } from "./artifacts.js";
import { fingerprintPath } from "./fingerprint.js";
import { archiveNeeds } from "./sources/index.js";

/** The file in a build directory listing what {@link shareBuildDirs} shared, with each file's own mtime. */
export const SHARE_MANIFEST = ".kiln-shared.json";

/** One target's build directory, and paths in it (relative, `/`-separated) that must not be shared. */
export interface ShareDir {
  dir: string;
  exclude?: readonly string[];
}

export interface ShareResult {
  /** Files replaced by a link to an identical file in another build directory. */
  linkedFiles: number;
  /** Bytes no longer stored twice. */
  savedBytes: number;
  /** Files compared byte for byte (same path, size and mode in two directories). */
  comparedFiles: number;
  /** `link` (hard links; unshared before make) or `clone` (reflinks: copy-on-write, nothing to undo). */
  method: "link" | "clone" | "none";
  durationMs: number;
}

export interface UnshareResult {
  /** Files that were shared and are now private copies. */
  copiedFiles: number;
  copiedBytes: number;
  durationMs: number;
}

interface Entry {
  path: string;
  dir: string;
  rel: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  dev: number;
  ino: number;
  mtimeNs: bigint;
}

type Manifest = Record<string, string>;

/**
 * Share the files that are identical (same relative path, size, mode, owner
 * and bytes) across `dirs`, which should be the build directories of one
 * architecture. The copy kept is the one with the newest mtime (so no
 * target's make finds it older than before); each directory's manifest
 * records the mtime its own build gave the file, which unsharing restores.
 * Where the filesystem can clone files (reflinks), duplicates become clones
 * instead: each keeps its own inode and mtime and nothing has to be undone.
 */
export async function shareBuildDirs(dirs: readonly ShareDir[]): Promise<ShareResult> {
  const started = Date.now();
  const result: ShareResult = {
    linkedFiles: 0,
    savedBytes: 0,
    comparedFiles: 0,
    method: "none",
    durationMs: 0,
  };
  if (dirs.length < 2) return { ...result, durationMs: Date.now() - started };
  const byRel = new Map<string, Entry[]>();
  for (const d of dirs) {
    const exclude = new Set(d.exclude ?? []);
    for (const e of await walkShareable(d.dir)) {
      if (exclude.has(e.rel)) continue;
      const list = byRel.get(e.rel);
      if (list) list.push(e);
      else byRel.set(e.rel, [e]);
    }
  }
  const pairs: [keep: Entry, dup: Entry][] = [];
  const candidates = [...byRel.values()].filter((entries) => entries.length > 1);
  for (let i = 0; i < candidates.length; i += BATCH) {
    const grouped = await Promise.all(candidates.slice(i, i + BATCH).map((c) => identicalGroups(c, result)));
    for (const group of grouped.flat()) {
      const keep = group.reduce((a, b) => (b.mtimeNs > a.mtimeNs ? b : a));
      for (const e of group) if (e.ino !== keep.ino || e.dev !== keep.dev) pairs.push([keep, e]);
    }
  }
  if (pairs.length === 0) return { ...result, durationMs: Date.now() - started };
  // A clone keeps each file's own inode and mtime: make never sees a change, nothing to undo.
  const [k0, d0] = pairs[0]!;
  const method = (await cloneOver(k0.path, d0)) ? "clone" : "link";
  if (method === "link") {
    // Recorded before linking, once per directory: an interrupted pass still gets unshared.
    const byDir = new Map<string, Manifest>();
    for (const x of pairs.flat()) {
      let m = byDir.get(x.dir);
      if (!m) {
        const read = await readManifest(x.dir);
        m = read.files;
        // Its record of what is shared is lost: what is shared there now gets no mtime back.
        if (read.damaged) await unshareBuildDir(x.dir);
        byDir.set(x.dir, m);
      }
      m[x.rel] ??= x.mtimeNs.toString();
    }
    for (const [dir, m] of byDir) await writeManifest(dir, m);
  }
  const one = async ([keep, e]: [Entry, Entry], i: number) => {
    if (method === "clone") {
      if (i > 0 && !(await cloneOver(keep.path, e))) return;
    } else {
      const tmp = tempPathFor(e.path);
      await link(keep.path, tmp);
      await rename(tmp, e.path);
    }
    result.linkedFiles++;
    result.savedBytes += e.size;
  };
  for (let i = 0; i < pairs.length; i += BATCH) {
    await Promise.all(pairs.slice(i, i + BATCH).map((p, j) => one(p, i + j)));
  }
  result.method = method;
  result.durationMs = Date.now() - started;
  return result;
}

/**
 * Make every file of `dir` that {@link shareBuildDirs} shared a private copy
 * again, with the mtime this directory's build gave it, then drop the
 * manifest. Call it before anything writes into `dir` (make). Cheap when
 * nothing is shared (one failed read).
 */
export async function unshareBuildDir(dir: string): Promise<UnshareResult> {
  const started = Date.now();
  const result: UnshareResult = { copiedFiles: 0, copiedBytes: 0, durationMs: 0 };
  const read = await readManifest(dir);
  let manifest = read.files;
  if (read.damaged) {
    // Which files are shared is unknown: every one with another link is copied, its mtime kept.
    manifest = Object.fromEntries((await walkShareable(dir)).map((e) => [e.rel, e.mtimeNs.toString()]));
  }
  const rels = Object.keys(manifest);
  if (rels.length === 0) return { ...result, durationMs: Date.now() - started };
  const one = async (rel: string) => {
    const path = join(dir, ...rel.split("/"));
    const st = await lstat(path, { bigint: true }).catch(() => undefined);
    if (!st?.isFile()) return;
    const mtimeS = nsToSeconds(BigInt(manifest[rel]!));
    const atimeS = nsToSeconds(st.atimeNs);
    if (st.nlink > 1n) {
      // A copy beside it, renamed over the link: the other directories keep the old inode.
      const tmp = tempPathFor(path);
      await copyFile(path, tmp, constants.COPYFILE_EXCL);
      await utimes(tmp, atimeS, mtimeS);
      await rename(tmp, path);
      result.copiedFiles++;
      result.copiedBytes += Number(st.size);
    } else if (st.mtimeNs !== BigInt(manifest[rel]!)) {
      await utimes(path, atimeS, mtimeS);
    }
  };
  for (let i = 0; i < rels.length; i += BATCH) await Promise.all(rels.slice(i, i + BATCH).map(one));
  await rm(join(dir, SHARE_MANIFEST), { force: true });
  result.durationMs = Date.now() - started;
  return result;
}

/**
 * Whether sharing is on: unless `KILN_NO_SHARE` is set to something other
 * than `0` or empty (for someone who runs make by hand in a build directory,
 * where a shared object would be written through to the other targets).
 */
export function sharingEnabled(env: NodeJS.ProcessEnv): boolean {
  const v = env.KILN_NO_SHARE;
  return v === undefined || v === "" || v === "0";
}

/** Per architecture, what {@link shareProjectBuilds} shared, and between which targets. */
export interface ProjectShareResult extends ShareResult {
  architecture: Architecture;
  targets: string[];
}

/**
 * Whether a target's build directory holds a finished build: its fingerprint
 * is written only after make succeeded and removed before make runs, so a
 * directory another `kiln build` is compiling into right now (or whose last
 * make failed) is left out.
 */
function finishedBuild(project: Project, t: Target): boolean {
  return existsSync(fingerprintPath(targetArtifacts(project, t).buildDir, t.name));
}

/**
 * Share identical files between the build directories of `project`'s targets
 * of each architecture in `architectures` (those whose make just ran), for
 * every target of that architecture whose last make succeeded. Left alone:
 * `exclude` (paths relative to a build directory: archives seeded there),
 * each target's images, initrd and defconfig.
 */
export async function shareProjectBuilds(
  project: Project,
  architectures: Iterable<Architecture>,
  exclude: readonly string[],
): Promise<ProjectShareResult[]> {
  const out: ProjectShareResult[] = [];
  for (const architecture of new Set(architectures)) {
    const targets = project.targets.filter(
      (t) => t.architecture === architecture && finishedBuild(project, t),
    );
    if (targets.length < 2) continue;
    const r = await shareBuildDirs(
      targets.map((t) => {
        const art = targetArtifacts(project, t);
        const own = [art.builtKernel, `${art.builtKernel}.dbg`, art.initrd ?? ""]
          .filter((p) => p.startsWith(`${art.buildDir}${sep}`))
          .map((p) => relative(art.buildDir, p).split(sep).join("/"));
        return { dir: art.buildDir, exclude: [...exclude, ...own, `defconfig.${t.name}`] };
      }),
    );
    out.push({ ...r, architecture, targets: targets.map((t) => t.name) });
  }
  return out;
}

/**
 * `kiln build`'s sharing step, after its targets built: for each
 * architecture whose make ran, share what its targets' build directories
 * have in common (see {@link shareProjectBuilds}), leaving alone the archives
 * the libraries in `libDirs` seed into them, and say what it saved.
 */
export async function shareAfterBuild(
  project: Project,
  ranArchitectures: readonly Architecture[],
  libDirs: readonly string[],
  reporter: Reporter,
): Promise<ProjectShareResult[]> {
  const several = ranArchitectures.some(
    (a) => project.targets.filter((t) => t.architecture === a && finishedBuild(project, t)).length > 1,
  );
  if (!several) return [];
  const exclude: string[] = [];
  for (const dir of libDirs) for (const n of await archiveNeeds(dir)) exclude.push(`${n.lib}/${n.fileName}`);
  const progress = reporter.progress("share identical build files");
  const shared = await shareProjectBuilds(project, ranArchitectures, exclude);
  const said = shared
    .filter((s) => s.linkedFiles > 0)
    .map(
      (s) =>
        `${s.architecture}: ${s.linkedFiles} files (${formatBytes(s.savedBytes)}) stored once for ${s.targets.join(", ")} (${s.method === "clone" ? "reflinks" : "hard links"})`,
    );
  progress.done(said.length > 0 ? said.join("; ") : "nothing identical");
  return shared;
}

/** Regular files in `dir`, recursively (symbolic links, empty files and Kiln's `.kiln-*` files left out). */
async function walkShareable(dir: string): Promise<Entry[]> {
  const out: Entry[] = [];
  const visit = async (d: string): Promise<void> => {
    const names = await readdir(d, { withFileTypes: true }).catch(() => []);
    const files = names.filter(
      (n) => n.isFile() && !n.name.startsWith(".kiln-") && !n.name.includes(".kiln-tmp-"),
    );
    // One directory's files stat'ed together: musl's 6,000 files one by one took seconds.
    const stats = await Promise.all(files.map((n) => lstat(join(d, n.name), { bigint: true })));
    for (const [i, n] of files.entries()) {
      const st = stats[i]!;
      if (st.size === 0n) continue;
      const p = join(d, n.name);
      out.push({
        path: p,
        dir,
        rel: relative(dir, p).split(sep).join("/"),
        size: Number(st.size),
        mode: Number(st.mode),
        uid: Number(st.uid),
        gid: Number(st.gid),
        dev: Number(st.dev),
        ino: Number(st.ino),
        mtimeNs: st.mtimeNs,
      });
    }
    for (const n of names) if (n.isDirectory()) await visit(join(d, n.name));
  };
  await visit(dir);
  return out;
}

/** Split entries of one relative path into groups of identical files (compared byte for byte). */
async function identicalGroups(entries: Entry[], stats: ShareResult): Promise<Entry[][]> {
  const groups: Entry[][] = [];
  for (const e of entries) {
    let placed = false;
    for (const g of groups) {
      const r = g[0]!;
      if (r.size !== e.size || r.mode !== e.mode || r.uid !== e.uid || r.gid !== e.gid || r.dev !== e.dev) {
        continue;
      }
      if (r.ino !== e.ino) stats.comparedFiles++;
      if (r.ino === e.ino || (await sameBytes(r.path, e.path))) {
        g.push(e);
        placed = true;
        break;
      }
    }
    if (!placed) groups.push([e]);
  }
  return groups;
}

const CHUNK_BYTES = 1 << 20;
/** Files handled at a time: thousands of small files one by one is mostly waiting on each call. */
const BATCH = 32;

/** Whether two files hold the same bytes. */
async function sameBytes(a: string, b: string): Promise<boolean> {
  const fa = await open(a, "r");
  const fb = await open(b, "r");
  try {
    const ba = Buffer.allocUnsafe(CHUNK_BYTES);
    const bb = Buffer.allocUnsafe(CHUNK_BYTES);
    for (;;) {
      const [ra, rb] = await Promise.all([
        fa.read(ba, 0, CHUNK_BYTES, null),
        fb.read(bb, 0, CHUNK_BYTES, null),
      ]);
      if (ra.bytesRead !== rb.bytesRead) return false;
      if (ra.bytesRead === 0) return true;
      if (ba.compare(bb, 0, rb.bytesRead, 0, ra.bytesRead) !== 0) return false;
    }
  } finally {
    await fa.close();
    await fb.close();
  }
}

/** Replace `e` by a reflink clone of `from`, keeping `e`'s mtime; false where the filesystem cannot clone. */
async function cloneOver(from: string, e: Entry): Promise<boolean> {
  const tmp = tempPathFor(e.path);
  try {
    await copyFile(from, tmp, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE_FORCE);
  } catch {
    await rm(tmp, { force: true });
    return false;
  }
  const st = await lstat(e.path);
  await utimes(tmp, st.atimeMs / 1000, nsToSeconds(e.mtimeNs));
  await rename(tmp, e.path);
  return true;
}

/**
 * A directory's manifest; `damaged` when the file exists but cannot be read
 * as one (then which files are shared is unknown: see {@link unshareBuildDir}).
 */
async function readManifest(dir: string): Promise<{ files: Manifest; damaged: boolean }> {
  const text = await readFile(join(dir, SHARE_MANIFEST), "utf8").catch(() => undefined);
  if (text === undefined) return { files: {}, damaged: false };
  try {
    const m = JSON.parse(text) as { files?: unknown };
    const entries = m.files && typeof m.files === "object" ? Object.entries(m.files) : undefined;
    if (entries?.every(([, v]) => typeof v === "string" && /^\d+$/.test(v))) {
      return { files: Object.fromEntries(entries) as Manifest, damaged: false };
    }
  } catch {
    // damaged, below
  }
  return { files: {}, damaged: true };
}

async function writeManifest(dir: string, files: Manifest): Promise<void> {
  await writeFileAtomic(join(dir, SHARE_MANIFEST), `${JSON.stringify({ files }, null, 1)}\n`);
}

/**
 * Seconds as `utimes` takes them. A double carries ~0.2 µs at today's
 * epoch, so a restored mtime can differ from the original by that much:
 * far below the gap between an object and anything make compares it with.
 */
function nsToSeconds(ns: bigint): number {
  return Number(ns / 1000n) / 1e6;
}
