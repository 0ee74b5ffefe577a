/**
 * `stable` as a set: the release line (`x.y`) every component of a project
 * that asks for `stable` has a release in. KraftKit gets matching versions
 * from its package index; Kiln reads the repositories' `RELEASE-x.y.z` tags.
 * Pure: release lists in, the line and one message out.
 *
 * The rule, in order:
 * 1. the newest line that every `stable` component (the core and each
 *    library with tags) has a release in: each takes its newest release of
 *    that line (so core RELEASE-0.16.3, lib-musl RELEASE-0.16.3 and
 *    lib-sqlite RELEASE-0.16.0 when lib-sqlite has no 0.17 release, rather
 *    than core 0.17.0 with libraries from older lines, which built and
 *    booted a sqlite that found no root filesystem);
 * 2. no line in common: the core's newest release, and for each library
 *    its release equal to or older than the core's (the former rule), with
 *    one warning naming each component's lines and one suggestion.
 * Components without `RELEASE-x.y.z` tags (a fork, a local directory) do
 * not constrain the set.
 */
import { type Release, type RepoRefs, releaseTags } from "./resolve.js";

/** A release line: `major.minor`. */
export interface ReleaseLine {
  major: number;
  minor: number;
}

/** A component asking for `stable`, with its releases. */
export interface StableComponent {
  /** For messages: `unikraft`, `library musl`. */
  label: string;
  releases: Release[];
}

export interface ReleaseSetChoice {
  /** The line every component has; undefined when there is none. */
  line?: ReleaseLine;
  /** One message: the set chosen and why, or why there is none and what to do. */
  message: string;
  /** Whether the message is a warning (no common line) rather than a notice. */
  warning: boolean;
}

/** `0.16` for a line. */
export function formatLine(l: ReleaseLine): string {
  return `${l.major}.${l.minor}`;
}

const key = (r: ReleaseLine) => `${r.major}.${r.minor}`;

/** The distinct lines of a release list, newest first. */
export function releaseLines(releases: readonly Release[]): ReleaseLine[] {
  const seen = new Map<string, ReleaseLine>();
  for (const r of releases) if (!seen.has(key(r))) seen.set(key(r), { major: r.major, minor: r.minor });
  return [...seen.values()].sort((a, b) => b.major - a.major || b.minor - a.minor);
}

/** The `RELEASE-x.y.z` releases of a repository's refs, newest first. */
export function releasesOf(refs: RepoRefs): Release[] {
  return releaseTags(refs).map((r) => r.release);
}

/**
 * Choose the release line for the `stable` components (see the module
 * comment); undefined when fewer than two have releases (nothing to match).
 */
export function chooseReleaseLine(components: readonly StableComponent[]): ReleaseSetChoice | undefined {
  const tagged = components.filter((c) => c.releases.length > 0);
  if (tagged.length < 2) return undefined;
  const lines = tagged.map((c) => ({ label: c.label, lines: releaseLines(c.releases) }));
  const [first, ...rest] = lines;
  const common = first!.lines.filter((l) => rest.every((c) => c.lines.some((m) => key(m) === key(l))));
  const newestOf = (c: (typeof lines)[number]) => formatLine(c.lines[0]!);
  const line = common[0];
  if (!line) {
    return {
      warning: true,
      message:
        `"stable": no release line is common to ${lines.map((c) => c.label).join(", ")} (${lines
          .map((c) => `${c.label}: ${c.lines.map(formatLine).join(", ")}`)
          .join(
            "; ",
          )}); using ${first!.label}'s newest release and, for each library, its release not newer than that. ` +
        "Pin every component to versions known to work together in the Kraftfile (unikraft: and each library's version:)",
    };
  }
  const behind = lines.filter((c) => key(c.lines[0]!) !== key(line));
  const why =
    behind.length === 0
      ? "the newest, and every component has it"
      : `the newest every component has; ${behind
          .map((c) => `${c.label}'s newest is ${newestOf(c)}`)
          .join(", ")}, which ${lines
          .filter((c) => !behind.includes(c))
          .map((c) => c.label)
          .join(", ")} lack${lines.length - behind.length === 1 ? "s" : ""}`;
  return { line, warning: false, message: `"stable" is release line ${formatLine(line)}: ${why}` };
}

/** The newest release of `line` in a list (newest first), if any. */
export function newestInLine(releases: readonly Release[], line: ReleaseLine): Release | undefined {
  return releases.find((r) => r.major === line.major && r.minor === line.minor);
}
