/**
 * One git-sourced component: make sure the commit it needs is in the cache
 * (fetching from the mirrors in order, then the upstream unless offline),
 * then place that commit in the project's `.unikraft/`.
 *
 * With a lock entry the commit is known and nothing is contacted when the
 * cache has it. Without one, the version is resolved against the refs of
 * the first place that has the repository and the version.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { KilnError } from "../../core/errors.js";
import { gitCachePath } from "./cache.js";
import type { SourceContext } from "./context.js";
import {
  checkoutFromCache,
  fetchCommitIntoCache,
  fillCache,
  headCommit,
  localRefs,
  revParseCommit,
  updateWorkTree,
} from "./git.js";
import type { LockedComponent } from "./lockfile.js";
import { describeMirror, mirrorRepoCandidates, missingMirrorNote, repoName } from "./mirrors.js";
import type { ReleaseLine } from "./release-set.js";
import { isCommitLike, type Release, type RepoRefs, type Resolution, resolveVersion } from "./resolve.js";

export interface GitRequest {
  /** For messages: `unikraft`, `lib musl`. */
  label: string;
  url: string;
  version: string;
  /** Where the work tree goes. */
  dest: string;
  /** A lock entry that still applies (same source), unless updating. */
  locked?: LockedComponent;
  /** For libraries: the core's release, which `stable` follows. */
  coreRelease?: Release;
  /** The release line `stable` comes from (chosen for the whole project, `release-set.ts`). */
  releaseLine?: ReleaseLine;
  /** A place {@link probeRefs} already fetched the repository from in this run (not fetched again). */
  filledFrom?: string;
}

export interface GitResult {
  ref: string;
  commit: string;
}

/** Places to fetch a repository from, in order: mirrors, then upstream. */
function places(ctx: SourceContext, url: string): { from: string; note?: string }[] {
  const name = repoName(url);
  const out: { from: string; note?: string }[] = [];
  for (const m of ctx.mirrors) {
    const missing = missingMirrorNote(m);
    if (missing) {
      out.push({ from: describeMirror(m), note: missing });
      continue;
    }
    for (const c of mirrorRepoCandidates(m, name)) {
      out.push(m.kind === "dir" && !existsSync(c) ? { from: c, note: "absent" } : { from: c });
    }
  }
  if (ctx.offline) out.push({ from: url, note: "upstream not contacted (--offline)" });
  else out.push({ from: url });
  return out;
}

/**
 * Fetch and place a git component. Returns undefined (and records what is
 * missing in `ctx.missing`) when no place has it.
 */
export async function fetchGitComponent(ctx: SourceContext, req: GitRequest): Promise<GitResult | undefined> {
  const cache = gitCachePath(req.url, ctx.env);
  // Two kiln processes filling one cache entry would race on its refs; take turns.
  await mkdir(dirname(cache), { recursive: true });
  // Loaded here rather than at the top: it patches fs through graceful-fs,
  // ≈20 ms that a build of directory sources (or `kiln --help`) never needs.
  const { default: lockfile } = await import("proper-lockfile");
  const release = await lockfile.lock(cache, {
    realpath: false,
    retries: { retries: 600, minTimeout: 200, maxTimeout: 1000 },
  });
  try {
    return await fetchWithCacheHeld(ctx, req, cache);
  } finally {
    await release();
  }
}

/**
 * A repository's refs, for choosing a release set before anything is
 * resolved: the cache is filled from the first place that answers (mirrors,
 * then upstream unless offline), else what the cache holds is read. Returns
 * which place filled it, so the fetch that follows does not fetch again.
 */
export async function probeRefs(
  ctx: SourceContext,
  url: string,
): Promise<{ refs?: RepoRefs; filledFrom?: string }> {
  const cache = gitCachePath(url, ctx.env);
  await mkdir(dirname(cache), { recursive: true });
  const { default: lockfile } = await import("proper-lockfile");
  const release = await lockfile.lock(cache, {
    realpath: false,
    retries: { retries: 600, minTimeout: 200, maxTimeout: 1000 },
  });
  try {
    for (const p of places(ctx, url)) {
      if (p.note) continue;
      ctx.signal?.throwIfAborted();
      if (!(await fillCache(cache, p.from, ctx.env)))
        return { refs: await localRefs(cache, ctx.env), filledFrom: p.from };
    }
    return existsSync(cache) ? { refs: await localRefs(cache, ctx.env) } : {};
  } finally {
    await release();
  }
}

async function fetchWithCacheHeld(
  ctx: SourceContext,
  req: GitRequest,
  cache: string,
): Promise<GitResult | undefined> {
  const tried: string[] = [];
  const inCache = async (rev: string) =>
    existsSync(cache) ? revParseCommit(cache, rev, ctx.env) : Promise.resolve(undefined);

  let result: GitResult | undefined;
  const lockedCommit = req.locked?.commit;
  if (lockedCommit) {
    // Locked: the commit decides; refs are only fetched when the cache lacks it.
    let commit = await inCache(lockedCommit);
    if (!commit) {
      for (const p of places(ctx, req.url)) {
        if (p.note) {
          tried.push(`${p.from} (${p.note})`);
          continue;
        }
        ctx.signal?.throwIfAborted();
        const err = await fillCache(cache, p.from, ctx.env);
        commit = await inCache(lockedCommit);
        if (!commit && !err && (await fetchCommitIntoCache(cache, p.from, lockedCommit, ctx.env))) {
          commit = await inCache(lockedCommit);
        }
        if (commit) break;
        tried.push(`${p.from} (${err ?? `has no commit ${lockedCommit}`})`);
      }
    }
    if (commit) result = { ref: req.locked?.ref ?? commit, commit };
    else
      ctx.missing.push({
        what: `${req.label} commit ${lockedCommit} (${req.locked?.ref ?? "locked"}, from kiln.lock)`,
        tried: [`${cache} (cache)`, ...tried],
      });
  } else {
    // A bare commit already cached needs no network either.
    const cachedCommit = isCommitLike(req.version) ? await inCache(req.version) : undefined;
    if (cachedCommit) result = { ref: req.version, commit: cachedCommit };
    let lastError: KilnError | undefined;
    for (const p of cachedCommit ? [] : places(ctx, req.url)) {
      if (p.note) {
        tried.push(`${p.from} (${p.note})`);
        continue;
      }
      ctx.signal?.throwIfAborted();
      const err = p.from === req.filledFrom ? undefined : await fillCache(cache, p.from, ctx.env);
      if (err) {
        tried.push(`${p.from} (${err})`);
        continue;
      }
      let r = await resolveIn(cache, req, p.from, ctx.env);
      // A commit no branch or tag reaches (a pull request's, say) can still be fetched by id.
      if (r instanceof KilnError && isCommitLike(req.version)) {
        if (await fetchCommitIntoCache(cache, p.from, req.version, ctx.env)) {
          r = await resolveIn(cache, req, p.from, ctx.env);
        }
      }
      if (r instanceof KilnError) {
        lastError = r;
        tried.push(`${p.from} (${r.message})`);
        continue;
      }
      result = r;
      break;
    }
    if (!result && existsSync(cache) && !cachedCommit) {
      // Every place failed: what the cache already has still counts (it is
      // how an offline build without a lock file works).
      const r = await resolveIn(cache, req, `${cache} (cache)`, ctx.env);
      if (!(r instanceof KilnError)) {
        if (!ctx.offline) ctx.reporter.warn(`${req.label}: no source reachable; using the cached ${r.ref}`);
        result = r;
      } else lastError = r;
    }
    if (!result) {
      if (lastError && tried.every((t) => !t.includes("(absent)") && !t.includes("not contacted"))) {
        throw lastError;
      }
      ctx.missing.push({
        what: `${req.label} ${req.version} (${req.url})`,
        tried: [`${cache} (cache${existsSync(cache) ? ": version not found" : ": empty"})`, ...tried],
      });
    }
  }
  if (!result) return undefined;
  const head = await headCommit(req.dest, ctx.env);
  if (head === undefined) await checkoutFromCache(cache, result.commit, req.dest, req.url, ctx.env);
  else if (head !== result.commit) await updateWorkTree(req.dest, cache, result.commit, req.label, ctx.env);
  return result;
}

async function resolveIn(
  cache: string,
  req: GitRequest,
  where: string,
  env: NodeJS.ProcessEnv,
): Promise<GitResult | KilnError> {
  let r: Resolution;
  try {
    r = resolveVersion(await localRefs(cache, env), {
      name: req.label,
      version: req.version,
      ...(req.coreRelease ? { coreRelease: req.coreRelease } : {}),
      ...(req.releaseLine ? { releaseLine: req.releaseLine } : {}),
      where,
    });
  } catch (e) {
    if (e instanceof KilnError) return e;
    throw e;
  }
  const commit = await revParseCommit(cache, r.commit, env);
  if (!commit) {
    return new KilnError(
      "SOURCE_VERSION_NOT_FOUND",
      `${req.label}: version "${req.version}" is neither a tag, a branch nor a commit of ${where}`,
    );
  }
  return { ref: r.kind === "commit" ? commit : r.ref, commit };
}
