/**
 * Tarball sources: an archive (http(s) URL or local path) of a component,
 * cached once, then unpacked into `.unikraft/` with its single top-level
 * directory stripped (GitHub's `unikraft-RELEASE-0.17.0/` and the like), as
 * KraftKit does for archive sources.
 *
 * `.tar.gz`/`.tgz`, `.tar.xz`/`.txz`, `.tar.bz2` and plain `.tar` unpack with
 * `tar` (which detects the compression); `.zip` with `bsdtar`.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { KilnError } from "../../core/errors.js";
import { exec } from "../../core/exec.js";
import { produceAtomically, writeFileAtomic } from "../../core/fs.js";
import { tarballCachePath } from "./cache.js";
import type { SourceContext } from "./context.js";
import { downloadTo, isUrl, sha256File } from "./download.js";
import type { LockedComponent } from "./lockfile.js";
import { archivePlaces } from "./mirrors.js";

/** Stamp file in an unpacked tarball source: the archive's SHA-256. */
const STAMP = ".kiln-source";

export interface TarballRequest {
  label: string;
  location: string;
  dest: string;
  locked?: LockedComponent;
}

/** The argv that unpacks `archive` into `dir` (pure). */
export function unpackArgv(archive: string, dir: string): string[] {
  return /\.zip$/i.test(archive) ? ["bsdtar", "-xf", archive, "-C", dir] : ["tar", "-xf", archive, "-C", dir];
}

/**
 * Get the archive into the cache (a local path is read in place), check it
 * against the lock, unpack it to `dest` unless already there. Returns its
 * SHA-256, or undefined when it could not be found (recorded in `ctx.missing`).
 */
export async function fetchTarballComponent(
  ctx: SourceContext,
  req: TarballRequest,
): Promise<{ sha256: string } | undefined> {
  const archive = await obtainArchive(ctx, req);
  if (!archive) return undefined;
  const sha256 = await sha256File(archive);
  if (req.locked?.sha256 && req.locked.sha256 !== sha256) {
    throw new KilnError(
      "LOCK_MISMATCH",
      `${req.label}: ${req.location} has SHA-256 ${sha256}, but kiln.lock pins ${req.locked.sha256}`,
      {
        hint: "the archive changed since the lock was written; check it, then run with --update to accept it",
      },
    );
  }
  const stamp = join(req.dest, STAMP);
  const placed = existsSync(stamp) ? (await readFile(stamp, "utf8")).trim() : undefined;
  if (placed !== sha256) {
    await unpackStripped(archive, req.dest);
    await writeFileAtomic(stamp, `${sha256}\n`);
  }
  return { sha256 };
}

async function obtainArchive(ctx: SourceContext, req: TarballRequest): Promise<string | undefined> {
  if (!isUrl(req.location)) {
    if (existsSync(req.location)) return req.location;
    throw new KilnError("SOURCE_NOT_FOUND", `${req.label}: tarball ${req.location} does not exist`, {
      hint: "fix the path in the Kraftfile (relative paths are from the Kraftfile's directory)",
    });
  }
  const cached = tarballCachePath(req.location, ctx.env);
  if (existsSync(cached)) return cached;
  const tried: string[] = [];
  const name = basename(new URL(req.location).pathname);
  for (const { from: c, note } of archivePlaces(ctx.mirrors, [name])) {
    if (note) {
      tried.push(`${c} (${note})`);
      continue;
    }
    const err = await downloadTo(c, cached, ctx.signal);
    if (!err) return cached;
    tried.push(`${c} (${err})`);
  }
  if (ctx.offline) tried.push(`${req.location} (upstream not contacted (--offline))`);
  else {
    ctx.reporter.info(`downloading ${req.location}`);
    const err = await downloadTo(req.location, cached, ctx.signal);
    if (!err) return cached;
    tried.push(`${req.location} (${err})`);
  }
  ctx.missing.push({
    what: `${req.label} tarball ${req.location}`,
    tried: [`${cached} (cache: absent)`, ...tried],
  });
  return undefined;
}

/** Unpack `archive` to `dest` (replacing it), stripping a single top-level directory. */
export async function unpackStripped(archive: string, dest: string): Promise<void> {
  await produceAtomically(dest, async (tmp) => {
    const work = `${tmp}.unpack`;
    await mkdir(work, { recursive: true });
    try {
      await exec(unpackArgv(archive, work), {
        hint: `is ${archive} a .tar.gz, .tar.xz, .tar.bz2 or .zip archive?`,
      });
      const entries = await readdir(work);
      const only = entries.length === 1 ? join(work, entries[0]!) : undefined;
      const root = only && (await stat(only)).isDirectory() ? only : work;
      await rename(root, tmp);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    await rm(dest, { recursive: true, force: true });
  });
}
