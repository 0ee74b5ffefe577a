/**
 * Git, through `exec` (so failures report argv, exit code and stderr): a bare
 * cache repository per upstream, fed by `git fetch` from a mirror or the
 * upstream, and checkouts from it into the project's `.unikraft/`.
 *
 * The cache is `git init --bare` + `git fetch` rather than
 * `git clone --mirror` so one cache entry can be filled from any of several
 * places (a mirror today, the upstream tomorrow) under the same refs.
 */
import { existsSync, statSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { KilnError } from "../../core/errors.js";
import { exec } from "../../core/exec.js";
import { produceAtomically } from "../../core/fs.js";
import { describeNetFailure } from "./net-errors.js";
import { parseRefs, type RepoRefs } from "./resolve.js";

/** Environment for git: never prompt for credentials, stable messages. */
export function gitEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "true", LC_ALL: "C" };
}

function git(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; allowFailure?: boolean } = {}) {
  return exec(["git", ...args], {
    env: gitEnv(opts.env),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.allowFailure ? { allowFailure: true } : {}),
  });
}

/** Create the bare cache repository if absent. */
export async function ensureCacheRepo(cachePath: string, env?: NodeJS.ProcessEnv): Promise<void> {
  if (existsSync(cachePath)) return;
  await mkdir(dirname(cachePath), { recursive: true });
  // Build beside and rename, so a half-made repository is never mistaken for a cache entry.
  await produceAtomically(cachePath, async (tmp) => {
    await git(["init", "--quiet", "--bare", tmp], { env: env ?? process.env });
  });
}

/**
 * Fetch all branches and tags of `from` (a URL or a repository path) into the
 * cache repository; tags that moved upstream move here too (`+` refspecs).
 * Returns an error message instead of throwing when `from` cannot be read.
 */
export async function fetchIntoCache(
  cachePath: string,
  from: string,
  env?: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const r = await git(
    [
      "fetch",
      "--quiet",
      "--force",
      "--no-tags",
      from,
      "+refs/heads/*:refs/heads/*",
      "+refs/tags/*:refs/tags/*",
    ],
    { cwd: cachePath, env: env ?? process.env, allowFailure: true },
  );
  if (r.exitCode === 0) return undefined;
  return r.stderr.trim()
    ? describeNetFailure(from, r.stderr).what
    : `git fetch exited with code ${r.exitCode}`;
}

/**
 * Fill the cache repository from `from`: the first time from a local
 * repository, `git clone --bare` (which hard-links the objects: a fraction of
 * a second for Unikraft's core, where a fetch packs and copies them for
 * seconds); otherwise {@link fetchIntoCache}. Resolves to an error message or
 * undefined.
 */
export async function fillCache(
  cachePath: string,
  from: string,
  env?: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const e = env ?? process.env;
  if (!existsSync(cachePath) && existsSync(from)) {
    await mkdir(dirname(cachePath), { recursive: true });
    try {
      await produceAtomically(cachePath, async (tmp) => {
        await git(["clone", "--quiet", "--bare", from, tmp], { env: e });
      });
      return undefined;
    } catch (err) {
      if (err instanceof KilnError) {
        const stderr = err.details.slice(1).join("\n");
        return stderr.trim() ? describeNetFailure(from, stderr).what : err.message;
      }
      throw err;
    }
  }
  if (existsSync(cachePath)) return fetchIntoCache(cachePath, from, e);
  // A new cache entry appears only once something was fetched into it: a failed first fetch
  // (DNS, refused, …) leaves no empty repository that a later step would read as "no tags".
  await mkdir(dirname(cachePath), { recursive: true });
  let failure: string | undefined;
  await produceAtomically(cachePath, async (tmp) => {
    await git(["init", "--quiet", "--bare", tmp], { env: e });
    failure = await fetchIntoCache(tmp, from, e);
    if (failure !== undefined) throw new FetchFailed();
  }).catch((err) => {
    if (!(err instanceof FetchFailed)) throw err;
  });
  return failure;
}

/** Unwinds {@link produceAtomically} (removing its temporary repository) after a failed fetch. */
class FetchFailed extends Error {}

/** Fetch a single commit (for a locked commit no ref points to any more). */
export async function fetchCommitIntoCache(
  cachePath: string,
  from: string,
  commit: string,
  env?: NodeJS.ProcessEnv,
): Promise<boolean> {
  const r = await git(["fetch", "--quiet", from, commit], {
    cwd: cachePath,
    env: env ?? process.env,
    allowFailure: true,
  });
  return r.exitCode === 0;
}

/** Branches and tags of a local repository (tags peeled). */
export async function localRefs(repo: string, env?: NodeJS.ProcessEnv): Promise<RepoRefs> {
  // show-ref exits 1 when there are no refs at all: an empty repository.
  const r = await git(["show-ref", "--dereference"], {
    cwd: repo,
    env: env ?? process.env,
    allowFailure: true,
  });
  return parseRefs(r.stdout);
}

/** The full id of a commit in `repo`, or undefined when it is not there. */
export async function revParseCommit(
  repo: string,
  rev: string,
  env?: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const r = await git(["rev-parse", "--verify", "--quiet", `${rev}^{commit}`], {
    cwd: repo,
    env: env ?? process.env,
    allowFailure: true,
  });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/** HEAD's commit of a work tree, or undefined when it is no git work tree. */
export async function headCommit(dir: string, env?: NodeJS.ProcessEnv): Promise<string | undefined> {
  // Only the directory's own repository counts, not one it happens to sit in.
  if (!existsSync(join(dir, ".git"))) return undefined;
  return revParseCommit(dir, "HEAD", env);
}

/**
 * Place `commit` of the cache repository at `dest` as a git work tree with a
 * detached HEAD, replacing what was there. `git clone` of a local path
 * hard-links the objects, so this costs little disk. `origin` is set to the
 * upstream URL, as in a KraftKit-managed `.unikraft/`.
 */
export async function checkoutFromCache(
  cachePath: string,
  commit: string,
  dest: string,
  upstreamUrl: string,
  env?: NodeJS.ProcessEnv,
): Promise<void> {
  const e = env ?? process.env;
  await produceAtomically(dest, async (tmp) => {
    await git(["clone", "--quiet", "--no-checkout", cachePath, tmp], { env: e });
    await git(["checkout", "--quiet", "--detach", commit], { cwd: tmp, env: e });
    await git(["remote", "set-url", "origin", upstreamUrl], { cwd: tmp, env: e });
    // produceAtomically renames over `dest` only when it is absent or an empty directory.
    await rm(dest, { recursive: true, force: true });
  });
}

/**
 * Move an existing work tree at `dest` to `commit` of the cache repository,
 * in place, so local branches and commits there survive. Refuses
 * (`SOURCE_DIRTY`) when the tree has uncommitted changes: Kiln never throws
 * away someone's edits to `.unikraft/`.
 */
export async function updateWorkTree(
  dest: string,
  cachePath: string,
  commit: string,
  label: string,
  env?: NodeJS.ProcessEnv,
): Promise<void> {
  const e = env ?? process.env;
  const status = await git(["status", "--porcelain", "--untracked-files=no"], { cwd: dest, env: e });
  if (status.stdout.trim() !== "") {
    throw new KilnError(
      "SOURCE_DIRTY",
      `${label}: ${dest} has uncommitted changes, and the lock or version asks for commit ${commit.slice(0, 12)}`,
      {
        details: status.stdout
          .trimEnd()
          .split("\n")
          .slice(0, 10)
          .map((l) => `  | ${l}`),
        hint: "commit or stash them there (or point the Kraftfile at a local directory to use it in place); delete the directory to re-fetch",
      },
    );
  }
  await git(["fetch", "--quiet", cachePath, commit], { cwd: dest, env: e });
  await git(["checkout", "--quiet", "--detach", commit], { cwd: dest, env: e });
}

/**
 * Refresh the stat data of a work tree's index when its entries are "racily
 * clean" (git's Documentation/technical/racy-git.txt): right after a
 * checkout, files and index share a timestamp, so git re-reads and hashes
 * every such file on each `git ls-files -m` — which Unikraft's
 * `support/scripts/gitsha1` runs on every make invocation (measured on the
 * 0.17 core: 0.10 s, against 0.01 s once refreshed). Refreshing helps only
 * once the newest file is more than a second old (a new index must be
 * strictly newer, and git may compare whole seconds), and is skipped when no
 * entry can be racy. Touches nothing but the index's cached stat data;
 * failures are ignored (the index is an optimisation here). Returns whether
 * it ran.
 */
export async function refreshRacyIndex(
  dir: string,
  newestFileMtimeNs: bigint,
  env?: NodeJS.ProcessEnv,
  nowMs = Date.now(),
): Promise<boolean> {
  let indexMtimeNs: bigint;
  try {
    indexMtimeNs = statSync(join(dir, ".git", "index"), { bigint: true }).mtimeNs;
  } catch {
    return false;
  }
  const second = 1_000_000_000n;
  if (indexMtimeNs / second > newestFileMtimeNs / second) return false;
  if (BigInt(nowMs) * 1_000_000n - newestFileMtimeNs < second) return false;
  // -q: files that differ only stay listed as such; the exit code says no more than that.
  await git(["update-index", "-q", "--refresh"], { cwd: dir, env: env ?? process.env, allowFailure: true });
  return true;
}
