/**
 * Getting a project's Unikraft sources into place, as KraftKit lays them out:
 * the core in `.unikraft/unikraft`, libraries in `.unikraft/libs/<name>`, a
 * template application in `.unikraft/apps/<name>`; local directories are used
 * in place. Versions come from `kiln.lock` when it still matches the
 * Kraftfile (unless `update`), and the lock is rewritten afterwards. The
 * archives that libraries download at build time are put in the cache too,
 * so a later build can be seeded from it offline.
 */
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { KilnError } from "../../core/errors.js";
import { exec } from "../../core/exec.js";
import { type Reporter, silentReporter } from "../../core/output.js";
import type { Component, ComponentSource, Project } from "../../kraftfile/types.js";
import { archiveNeeds, effectiveMirrors, ensureArchiveCached, throwIfMissing } from "./archives.js";
import { archivesCacheDir } from "./cache.js";
import { hashFile } from "./checksum.js";
import type { SourceContext } from "./context.js";
import { fetchGitComponent, probeRefs } from "./git-component.js";
import {
  type ComponentRole,
  findLocked,
  type LockedArchive,
  type LockedComponent,
  lockFilePath,
  readLockFile,
  writeLockFile,
} from "./lockfile.js";
import {
  chooseReleaseLine,
  type ReleaseLine,
  type ReleaseSetChoice,
  releasesOf,
  type StableComponent,
} from "./release-set.js";
import { compareReleases, parseRelease, type Release, releaseMismatch } from "./resolve.js";
import { fetchTarballComponent } from "./tarball.js";

export interface FetchOptions {
  /** Use only the cache and mirrors; never contact an upstream. */
  offline?: boolean;
  /** Mirrors (directories or base URLs) tried first, before `KILN_MIRRORS` and the config file's. */
  mirrors?: string[];
  /** Ignore `kiln.lock`: resolve every version afresh and rewrite the lock. */
  update?: boolean;
  reporter?: Reporter;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export interface FetchedComponent {
  name: string;
  /** Absolute: in `.unikraft/`, or the local directory in place. */
  dir: string;
  source: ComponentSource;
  /** Git: the ref the version resolved to. */
  resolvedRef?: string;
  /** Git: the commit checked out. */
  commit?: string;
  /** Tarball: SHA-256 of the archive. */
  sha256?: string;
}

export interface FetchedSources {
  core: FetchedComponent;
  /** In Kraftfile order. */
  libraries: FetchedComponent[];
  template?: FetchedComponent;
  /** Absolute path of the lock file written. */
  lockFile: string;
  /** The cache directory holding build-time archives, when any library needs one. */
  archivesDir?: string;
  /** Build-time archives, cached (seed them with `seedArchives`). */
  archives: LockedArchive[];
}

/** Where a component goes in `.unikraft/` (pure). */
export function componentDest(project: Project, role: ComponentRole, name: string): string {
  const base = join(project.dir, ".unikraft");
  if (role === "core") return join(base, "unikraft");
  if (role === "template") return join(base, "apps", name);
  return join(base, "libs", name);
}

function label(role: ComponentRole, name: string): string {
  return role === "core" ? "unikraft" : role === "template" ? `template ${name}` : `library ${name}`;
}

/**
 * Fetch the core, libraries and template of `project`, write `kiln.lock`.
 * Throws `SOURCES_MISSING` naming every component and archive not found (and
 * where Kiln looked), `SOURCE_VERSION_NOT_FOUND` for a version a repository
 * does not have, `NO_UNIKRAFT` for a project without a `unikraft:` core.
 */
export async function fetchProjectSources(
  project: Project,
  opts: FetchOptions = {},
): Promise<FetchedSources> {
  const env = opts.env ?? process.env;
  const reporter = opts.reporter ?? silentReporter;
  if (!project.unikraft) {
    throw new KilnError(
      "NO_UNIKRAFT",
      `${project.file} has no "unikraft:" core, so there are no sources to fetch`,
      {
        hint: project.runtime
          ? `this project runs the prebuilt runtime ${project.runtime}; nothing to build`
          : 'add e.g. "unikraft: stable" to the Kraftfile',
      },
    );
  }
  const ctx: SourceContext = {
    env,
    mirrors: await effectiveMirrors(opts.mirrors ?? [], env, project.dir, reporter),
    offline: opts.offline ?? false,
    reporter,
    missing: [],
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  const lockFile = lockFilePath(project.dir);
  const lock = opts.update ? undefined : await readLockFile(lockFile);
  const work: { role: ComponentRole; c: Component }[] = [
    { role: "core", c: project.unikraft },
    ...(project.template ? [{ role: "template" as const, c: project.template }] : []),
    ...project.libraries.map((c) => ({ role: "library" as const, c })),
  ];
  const progress = reporter.progress("fetch");
  const fetched = new Map<Component, FetchedComponent>();
  const locked: LockedComponent[] = [];
  let coreRelease: Release | undefined;
  const set = await chooseStableSet(ctx, project.dir, work, lock);
  for (const [i, { role, c }] of work.entries()) {
    progress.update(label(role, c.name), i, work.length);
    const entry = findLocked(lock, role, c.name, c.source);
    const f = await fetchComponent(ctx, project, role, c, entry, {
      ...(role === "library" && coreRelease ? { coreRelease } : {}),
      ...(set?.choice.line && set.stable.has(c) ? { releaseLine: set.choice.line } : {}),
      ...(set?.filledFrom.has(c) ? { filledFrom: set.filledFrom.get(c)! } : {}),
      // One message for the whole set replaces each library's own mismatch warning.
      quiet: set !== undefined,
    });
    if (role === "core" && f?.resolvedRef) coreRelease = parseRelease(f.resolvedRef);
    if (!f) continue;
    fetched.set(c, f);
    locked.push({
      role,
      name: c.name,
      source: c.source,
      ...(f.resolvedRef ? { ref: f.resolvedRef } : {}),
      ...(f.commit ? { commit: f.commit } : {}),
      ...(f.sha256 ? { sha256: f.sha256 } : {}),
    });
  }
  throwIfMissing(ctx.missing, ctx.offline);
  if (set) {
    const chosen = work
      .filter(({ c }) => set.stable.has(c) && fetched.get(c)?.resolvedRef)
      .map(({ role, c }) => `${label(role, c.name)} ${fetched.get(c)!.resolvedRef}`);
    const text = `${set.choice.message}: ${chosen.join(", ")}`;
    if (set.choice.warning) reporter.warn(text);
    else reporter.info(`notice: ${text}`);
  }

  // Build-time archives of every fetched component (lib-musl's musl tarball, …).
  const archives: LockedArchive[] = [];
  for (const f of fetched.values()) {
    for (const need of await archiveNeeds(f.dir)) {
      progress.update(`archive ${need.fileName}`);
      const cached = await ensureArchiveCached(ctx, need);
      if (cached) {
        archives.push({
          lib: need.lib,
          file: need.fileName,
          url: need.url,
          sha256: await hashFile(cached, "sha256"),
        });
      }
    }
  }
  throwIfMissing(ctx.missing, ctx.offline);
  await writeLockFile(lockFile, { version: 1, components: locked, archives });
  progress.done(`${fetched.size} component${fetched.size === 1 ? "" : "s"} in place`);
  const get = (c: Component) => fetched.get(c)!;
  return {
    core: get(project.unikraft),
    libraries: project.libraries.map(get),
    ...(project.template ? { template: get(project.template) } : {}),
    lockFile,
    ...(archives.length ? { archivesDir: archivesCacheDir(env) } : {}),
    archives,
  };
}

/**
 * When the core and at least one library ask for `stable` (and the lock file
 * does not fix them), read their release tags first and choose the release
 * line they share (`release-set.ts`).
 */
async function chooseStableSet(
  ctx: SourceContext,
  projectDir: string,
  work: readonly { role: ComponentRole; c: Component }[],
  lock: Awaited<ReturnType<typeof readLockFile>>,
): Promise<
  { choice: ReleaseSetChoice; stable: Set<Component>; filledFrom: Map<Component, string> } | undefined
> {
  const stable = work.filter(
    ({ role, c }) =>
      role !== "template" &&
      c.source.type === "git" &&
      c.source.version === "stable" &&
      !findLocked(lock, role, c.name, c.source),
  );
  // The application's own releases: a project directory that is a git checkout of a Unikraft
  // application (app-sqlite) was written for the release lines of its tags reachable from HEAD
  // (app-sqlite's newest is RELEASE-0.15.0: its Kraftfile uses 0.15's automount options).
  const app = await applicationReleases(projectDir, ctx.env);
  if (!stable.some((w) => w.role === "core") || stable.length + (app.length > 0 ? 1 : 0) < 2)
    return undefined;
  const filledFrom = new Map<Component, string>();
  const components: StableComponent[] = [];
  for (const { role, c } of stable) {
    if (c.source.type !== "git") continue;
    const probe = await probeRefs(ctx, c.source.url);
    if (probe.filledFrom) filledFrom.set(c, probe.filledFrom);
    components.push({ label: label(role, c.name), releases: probe.refs ? releasesOf(probe.refs) : [] });
  }
  if (app.length > 0) components.push({ label: "the application", releases: app });
  const choice = chooseReleaseLine(components);
  return choice ? { choice, stable: new Set(stable.map((w) => w.c)), filledFrom } : undefined;
}

/** `RELEASE-x.y.z` tags reachable from HEAD when `dir` is a git work tree's top, newest first; else none. */
async function applicationReleases(dir: string, env: NodeJS.ProcessEnv): Promise<Release[]> {
  const top = await exec(["git", "-C", dir, "rev-parse", "--show-toplevel"], { env, allowFailure: true });
  if (top.exitCode !== 0 || resolve(top.stdout.trim()) !== resolve(dir)) return [];
  const r = await exec(["git", "-C", dir, "tag", "--merged", "HEAD", "--list", "RELEASE-*"], {
    env,
    allowFailure: true,
  });
  return r.exitCode === 0
    ? r.stdout
        .split("\n")
        .map((t) => parseRelease(t.trim()))
        .filter((x): x is Release => x !== undefined)
        .sort((a, b) => compareReleases(b, a))
    : [];
}

async function fetchComponent(
  ctx: SourceContext,
  project: Project,
  role: ComponentRole,
  c: Component,
  entry: LockedComponent | undefined,
  opts: { coreRelease?: Release; releaseLine?: ReleaseLine; filledFrom?: string; quiet?: boolean },
): Promise<FetchedComponent | undefined> {
  const { coreRelease } = opts;
  const src = c.source;
  const what = label(role, c.name);
  if (src.type === "directory") {
    if (!existsSync(src.path) || !statSync(src.path).isDirectory()) {
      throw new KilnError("SOURCE_NOT_FOUND", `${what}: directory ${src.path} does not exist`, {
        hint: "fix the path in the Kraftfile (relative paths are from the Kraftfile's directory)",
      });
    }
    return { name: c.name, dir: src.path, source: src };
  }
  const dest = componentDest(project, role, c.name);
  if (src.type === "tarball") {
    const r = await fetchTarballComponent(ctx, {
      label: what,
      location: src.location,
      dest,
      ...(entry ? { locked: entry } : {}),
    });
    return r ? { name: c.name, dir: dest, source: src, sha256: r.sha256 } : undefined;
  }
  const r = await fetchGitComponent(ctx, {
    label: what,
    url: src.url,
    version: src.version,
    dest,
    ...(entry ? { locked: entry } : {}),
    ...(coreRelease ? { coreRelease } : {}),
    ...(opts.releaseLine ? { releaseLine: opts.releaseLine } : {}),
    ...(opts.filledFrom ? { filledFrom: opts.filledFrom } : {}),
  });
  if (!r) return undefined;
  if (role === "library" && src.version === "stable" && !opts.quiet) {
    const warning = releaseMismatch(what, r.ref, coreRelease);
    if (warning) ctx.reporter.warn(warning);
  }
  return { name: c.name, dir: dest, source: src, resolvedRef: r.ref, commit: r.commit };
}
