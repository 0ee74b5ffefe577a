/**
 * Version resolution for Unikraft components: pure functions from a
 * repository's refs to the ref and commit a requested version means.
 *
 * - `stable` for the core is its newest `RELEASE-x.y.z` tag (the Unikraft
 *   project tags every release so; KraftKit's `stable` channel is the same
 *   thing).
 * - `stable` for a library is the tag equal to the core's release, else the
 *   newest `RELEASE-x.y.z` tag not newer than it: libraries are released in
 *   lock-step with the core, and a library from a newer or older release line
 *   breaks the build (lib-musl RELEASE-0.16.3 against core RELEASE-0.17.0
 *   does not compile musl's `getrandom`, because it still keys it on the
 *   core's `CONFIG_LIBUKSWRAND`, which 0.17.0 renamed `CONFIG_LIBUKRANDOM`:
 *   the link fails with an undefined reference to `getrandom`).
 * - `staging` is the `staging` branch; anything else is a tag, a branch or a
 *   commit (full or abbreviated hex), looked up in that order as git does.
 */
import { KilnError } from "../../core/errors.js";

/** A repository's refs: short names → commit (tags peeled to their commit). */
export interface RepoRefs {
  tags: Map<string, string>;
  heads: Map<string, string>;
}

/** What a version resolved to. */
export interface Resolution {
  /** The ref used (`RELEASE-0.17.0`, `staging`), or the commit itself. */
  ref: string;
  kind: "tag" | "branch" | "commit";
  /** Full commit id when known from the refs; for a bare commit, as written. */
  commit: string;
}

/** A parsed `RELEASE-x.y.z` tag. */
export interface Release {
  major: number;
  minor: number;
  patch: number;
}

const RELEASE_RE = /^RELEASE-(\d+)\.(\d+)\.(\d+)$/;

/** The release a `RELEASE-x.y.z` tag names, or undefined for other names. */
export function parseRelease(tag: string): Release | undefined {
  const m = RELEASE_RE.exec(tag);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

/** Compare two releases (negative when `a` is older). */
export function compareReleases(a: Release, b: Release): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/** `RELEASE-x.y.z` tags of a repository, newest first. */
export function releaseTags(refs: RepoRefs): { tag: string; release: Release }[] {
  const out: { tag: string; release: Release }[] = [];
  for (const tag of refs.tags.keys()) {
    const release = parseRelease(tag);
    if (release) out.push({ tag, release });
  }
  return out.sort((a, b) => compareReleases(b.release, a.release));
}

/**
 * Parse `git ls-remote` / `git show-ref --dereference` output
 * (`<sha>\t<refname>` lines). Annotated tags appear twice; the peeled line
 * (`refs/tags/X^{}`) gives the commit and wins.
 */
export function parseRefs(text: string): RepoRefs {
  const tags = new Map<string, string>();
  const heads = new Map<string, string>();
  const peeled = new Set<string>();
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]{40,64})\s+(\S+)$/.exec(line.trim());
    if (!m) continue;
    const [, sha, ref] = m as unknown as [string, string, string];
    if (ref.startsWith("refs/heads/")) heads.set(ref.slice(11), sha);
    else if (ref.startsWith("refs/tags/")) {
      const name = ref.slice(10);
      if (name.endsWith("^{}")) {
        const base = name.slice(0, -3);
        tags.set(base, sha);
        peeled.add(base);
      } else if (!peeled.has(name)) tags.set(name, sha);
    }
  }
  return { tags, heads };
}

const COMMIT_RE = /^[0-9a-f]{7,64}$/;

/** Whether a version string looks like a commit id. */
export function isCommitLike(version: string): boolean {
  return COMMIT_RE.test(version);
}

export interface ResolveRequest {
  /** Component name, for messages. */
  name: string;
  /** As written in the Kraftfile. */
  version: string;
  /** For libraries: the core's release, which `stable` follows. */
  coreRelease?: Release;
  /** The release line `stable` is to come from (see `release-set.ts`); wins over `coreRelease`. */
  releaseLine?: { major: number; minor: number };
  /** Where the refs came from, for messages. */
  where: string;
}

/**
 * Resolve a version against a repository's refs. Throws
 * `SOURCE_VERSION_NOT_FOUND` naming the version and the releases that exist.
 * A commit-like version not found among the refs resolves to itself (the
 * caller checks that the commit exists).
 */
export function resolveVersion(refs: RepoRefs, req: ResolveRequest): Resolution {
  const { version } = req;
  if (version === "stable") {
    const releases = releaseTags(refs);
    const line = req.releaseLine;
    const inLine = line
      ? releases.find((r) => r.release.major === line.major && r.release.minor === line.minor)
      : undefined;
    const pick = inLine
      ? inLine
      : req.coreRelease
        ? releases.find((r) => compareReleases(r.release, req.coreRelease!) <= 0)
        : releases[0];
    if (!pick) {
      const core = req.coreRelease ? ` not newer than the core's ${formatRelease(req.coreRelease)}` : "";
      throw new KilnError(
        "SOURCE_VERSION_NOT_FOUND",
        `${req.name}: "stable" needs a RELEASE-x.y.z tag${core}, and ${req.where} has ${
          releases.length ? releases.map((r) => r.tag).join(", ") : "none"
        }`,
        { hint: `name a tag, branch or commit for ${req.name} in the Kraftfile (e.g. "staging")` },
      );
    }
    return { ref: pick.tag, kind: "tag", commit: refs.tags.get(pick.tag)! };
  }
  const tag = refs.tags.get(version);
  if (tag) return { ref: version, kind: "tag", commit: tag };
  const head = refs.heads.get(version);
  if (head) return { ref: version, kind: "branch", commit: head };
  if (isCommitLike(version)) return { ref: version, kind: "commit", commit: version };
  const releases = releaseTags(refs)
    .slice(0, 5)
    .map((r) => r.tag);
  throw new KilnError(
    "SOURCE_VERSION_NOT_FOUND",
    `${req.name}: version "${version}" is neither a tag, a branch nor a commit of ${req.where}`,
    {
      hint: `use stable, staging, or one of: ${[...releases, ...[...refs.heads.keys()].slice(0, 5)].join(", ")}`,
    },
  );
}

/** `RELEASE-x.y.z` for a release. */
export function formatRelease(r: Release): string {
  return `RELEASE-${r.major}.${r.minor}.${r.patch}`;
}

/**
 * A warning when a library's resolved release is from another release line
 * (x.y) than the core's, or undefined when they match or either is no release.
 */
export function releaseMismatch(
  name: string,
  libRef: string,
  coreRelease: Release | undefined,
): string | undefined {
  const lib = parseRelease(libRef);
  if (!lib || !coreRelease) return undefined;
  if (lib.major === coreRelease.major && lib.minor === coreRelease.minor) return undefined;
  return (
    `${name} has no release for ${formatRelease(coreRelease)}; using ${libRef}, ` +
    `which may not build against this core (pin both to one release line, e.g. unikraft: ${libRef})`
  );
}
