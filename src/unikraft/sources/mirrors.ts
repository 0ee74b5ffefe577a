/**
 * Mirrors: an ordered list of places tried before the upstream for every git
 * repository and archive Kiln fetches.
 *
 * A mirror is either
 * - a directory holding bare (or non-bare) repositories named like the
 *   upstream's last path segment (`unikraft.git` or `unikraft/`,
 *   `lib-musl.git`, …) and archives (`musl-1.2.3.tar.gz`, directly or under
 *   `archives/`), or
 * - a base URL: `<base>/<repo-name>` (then `<base>/<repo-name>.git`) is the
 *   git URL, `<base>/archives/<file>` (then `<base>/<file>`) an archive.
 *
 * Order: `--with-mirror` flags, then `KILN_MIRRORS` (comma-separated; commas
 * because URLs contain colons), then `mirrors:` in `<configDir>/config.yaml`.
 *
 * A mirror directory that does not exist is kept in the list (it may appear
 * later, e.g. a mount) but warned about once per run, naming where it came
 * from, since a typo there would otherwise go unnoticed until an offline
 * build fails; the `--offline` error lists it as "(missing)".
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { parse } from "yaml";
import { errnoCode, KilnError } from "../../core/errors.js";
import type { Reporter } from "../../core/output.js";
import { kilnDirs } from "../../core/paths.js";

/**
 * One mirror: a local directory or a base URL. `origin` says where a
 * directory was named (`--with-mirror`, `KILN_MIRRORS`, a config file), for messages.
 */
export type Mirror = { kind: "dir"; path: string; origin?: string } | { kind: "url"; base: string };

const URL_RE = /^[a-z][a-z0-9+.-]*:\/\//i;

/** Classify a mirror as written; relative directories resolve against `baseDir`. */
export function parseMirror(text: string, baseDir: string, origin?: string): Mirror {
  const t = text.trim();
  const from = origin ? { origin } : {};
  if (URL_RE.test(t)) {
    if (t.startsWith("file://")) return { kind: "dir", path: decodeURIComponent(t.slice(7)), ...from };
    return { kind: "url", base: t.replace(/\/+$/, "") };
  }
  return { kind: "dir", path: isAbsolute(t) ? t : resolve(baseDir, t), ...from };
}

/**
 * The note for a mirror directory that does not exist (`missing; from
 * --with-mirror`), or undefined for a URL or a directory that exists. Places
 * tried list it once instead of each file looked for inside it.
 */
export function missingMirrorNote(m: Mirror): string | undefined {
  if (m.kind !== "dir" || existsSync(m.path)) return undefined;
  return `missing${m.origin ? `; mirror from ${m.origin}` : ""}`;
}

/** Reporters already told about a missing mirror directory: once per run, not once per fetch step. */
const warned = new WeakMap<Reporter, Set<string>>();

/** Warn (once per reporter) about each mirror directory that does not exist. */
export function warnMissingMirrors(mirrors: readonly Mirror[], reporter: Reporter): void {
  let told = warned.get(reporter);
  if (!told) warned.set(reporter, (told = new Set()));
  for (const m of mirrors) {
    if (m.kind !== "dir" || told.has(m.path) || existsSync(m.path)) continue;
    told.add(m.path);
    reporter.warn(
      `mirror directory ${m.path}${m.origin ? ` (from ${m.origin})` : ""} does not exist; nothing can be fetched from it`,
    );
  }
}

/** Split `KILN_MIRRORS` (comma- or newline-separated). */
export function splitMirrorList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** How a mirror is shown in messages. */
export function describeMirror(m: Mirror): string {
  return m.kind === "dir" ? m.path : m.base;
}

/** The `mirrors:` of a config file's text (pure). Throws `CONFIG_INVALID`. */
export function parseConfigMirrors(text: string, file: string): string[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new KilnError("CONFIG_INVALID", `${file} is not valid YAML: ${(e as Error).message}`, { cause: e });
  }
  if (doc === null || doc === undefined) return [];
  const mirrors = (doc as { mirrors?: unknown }).mirrors;
  if (mirrors === undefined || mirrors === null) return [];
  if (!Array.isArray(mirrors) || !mirrors.every((m) => typeof m === "string")) {
    throw new KilnError(
      "CONFIG_INVALID",
      `${file}: "mirrors" must be a list of strings, got ${typeof mirrors}`,
      {
        hint: "write e.g.\nmirrors:\n  - /srv/unikraft-mirror\n  - https://git.example.org/unikraft",
      },
    );
  }
  return mirrors as string[];
}

export interface MirrorInputs {
  /** `--with-mirror` values, in order. */
  flags?: string[];
  env?: NodeJS.ProcessEnv;
  /** Resolves relative `--with-mirror` directories. */
  cwd?: string;
  /** Told about mirror directories that do not exist (once per reporter). */
  reporter?: Reporter;
}

/** The effective, ordered, de-duplicated mirror list. */
export async function loadMirrors(inputs: MirrorInputs = {}): Promise<Mirror[]> {
  const env = inputs.env ?? process.env;
  const cwd = inputs.cwd ?? process.cwd();
  const out: Mirror[] = [];
  for (const f of inputs.flags ?? []) out.push(parseMirror(f, cwd, "--with-mirror"));
  for (const e of splitMirrorList(env.KILN_MIRRORS ?? "")) out.push(parseMirror(e, cwd, "KILN_MIRRORS"));
  const { configDir } = kilnDirs(env);
  const file = join(configDir, "config.yaml");
  let text: string | undefined;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if (errnoCode(e) !== "ENOENT") throw e;
  }
  if (text !== undefined) {
    for (const m of parseConfigMirrors(text, file)) out.push(parseMirror(m, configDir, file));
  }
  const seen = new Set<string>();
  const mirrors = out.filter((m) => {
    const key = `${m.kind}:${describeMirror(m)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (inputs.reporter) warnMissingMirrors(mirrors, inputs.reporter);
  return mirrors;
}

/** The repository name a mirror holds for an upstream git URL (`lib-musl`). */
export function repoName(url: string): string {
  const last = url.replace(/\/+$/, "").split(/[/:]/).pop() ?? url;
  return last.replace(/\.git$/, "");
}

/** Candidate git locations for a repository in a mirror, in the order tried. */
export function mirrorRepoCandidates(m: Mirror, name: string): string[] {
  if (m.kind === "dir") return [join(m.path, `${name}.git`), join(m.path, name)];
  return [`${m.base}/${name}`, `${m.base}/${name}.git`];
}

/** Candidate locations for an archive file in a mirror, in the order tried. */
export function mirrorArchiveCandidates(m: Mirror, fileNames: string[]): string[] {
  const out: string[] = [];
  for (const f of fileNames) {
    if (m.kind === "dir") out.push(join(m.path, f), join(m.path, "archives", f));
    else out.push(`${m.base}/archives/${f}`, `${m.base}/${f}`);
  }
  return out;
}

/** A place to look in, or (with `note`) one listed as tried without looking. */
export interface MirrorPlace {
  from: string;
  note?: string;
}

/**
 * Where to look for archive `fileNames` in the mirrors, in order: a missing
 * mirror directory is one place tried, noted "(missing…)", not a file each.
 */
export function archivePlaces(mirrors: readonly Mirror[], fileNames: string[]): MirrorPlace[] {
  return mirrors.flatMap((m) => {
    const note = missingMirrorNote(m);
    return note
      ? [{ from: describeMirror(m), note }]
      : mirrorArchiveCandidates(m, fileNames).map((from) => ({ from }));
  });
}
