/**
 * Where fetched sources live between builds: `$XDG_CACHE_HOME/kiln/sources`
 * (`KILN_HOME/cache/sources` under `KILN_HOME`). Git repositories are kept as
 * bare repositories (one per upstream URL, fed from mirrors or the upstream),
 * archives by file name, tarball sources by location.
 */
import { createHash } from "node:crypto";
import { basename, join } from "node:path";
import { kilnDirs } from "../../core/paths.js";
import { repoName } from "./mirrors.js";

/** Root of the sources cache. */
export function sourcesCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(kilnDirs(env).cacheDir, "sources");
}

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 12);
}

/** Normalize a git URL so `…/unikraft` and `…/unikraft.git/` share a cache entry. */
export function normalizeGitUrl(url: string): string {
  return url.replace(/\/+$/, "").replace(/\.git$/, "");
}

/** The bare repository caching an upstream git URL: `git/<name>-<hash>.git`. */
export function gitCachePath(url: string, env: NodeJS.ProcessEnv = process.env): string {
  const norm = normalizeGitUrl(url);
  return join(sourcesCacheDir(env), "git", `${repoName(norm)}-${shortHash(norm)}.git`);
}

/** Directory of archives that libraries download at build time (by file name). */
export function archivesCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(sourcesCacheDir(env), "archives");
}

/** Where a tarball source (URL or path) is cached: `tarballs/<hash>-<file>`. */
export function tarballCachePath(location: string, env: NodeJS.ProcessEnv = process.env): string {
  const name = basename(location.replace(/[?#].*$/, "")) || "source.tar.gz";
  return join(sourcesCacheDir(env), "tarballs", `${shortHash(location)}-${name}`);
}
