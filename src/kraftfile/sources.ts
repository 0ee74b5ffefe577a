/**
 * Resolving where a component (Unikraft core, library, template) comes from,
 * following KraftKit's short forms (kraftkit `unikraft/component`
 * `parseStringProp`): a string naming an existing directory is a source, a
 * URL is a source (with a version from `@ref` or `?branch=|tag=|version=`),
 * and anything else is a version of the default repository.
 */
import { isAbsolute, resolve } from "node:path";
import type { ComponentSource } from "./types.js";

/** The Unikraft core's repository when none is given. */
export const DEFAULT_UNIKRAFT_URL = "https://github.com/unikraft/unikraft";
/** The version used when none is given: Unikraft's `stable` branch. */
export const DEFAULT_VERSION = "stable";

/** A library's default repository: `https://github.com/unikraft/lib-<name>`. */
export function defaultLibraryUrl(name: string): string {
  return `https://github.com/unikraft/lib-${name}`;
}

/**
 * A template's default repository when named by a bare word:
 * `https://github.com/unikraft/app-<name>`. KraftKit resolves such names
 * through its online package index; Kiln works offline, so it maps them to
 * the Unikraft organisation's `app-` repositories, where templates live.
 */
export function defaultTemplateUrl(name: string): string {
  return `https://github.com/unikraft/${name.startsWith("app-") ? name : `app-${name}`}`;
}

const ARCHIVE = /\.(tar|tar\.gz|tgz|tar\.xz|txz|tar\.bz2|tbz2|zip)$/i;
const SCP_LIKE = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!\/\/)/;

/** Whether a string is a remote location: `scheme://host/…` or git's `user@host:path`. */
export function isUrl(s: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]/.test(s) || SCP_LIKE.test(s);
}

/** Whether a string is written as a local path (`/x`, `./x`, `../x`, `~/x`, `.`). */
export function looksLikePath(s: string): boolean {
  return s === "." || s === ".." || /^(\/|\.\.?\/|~\/)/.test(s);
}

export type SourceResolution =
  | { ok: true; source: ComponentSource; urlVersion?: string }
  | { ok: false; message: string; hint?: string; code?: string };

/**
 * Resolve a `source:` string. `dir` is the Kraftfile's directory (relative
 * paths resolve against it); `isDirectory` is the caller's view of the disk.
 */
export function resolveSourceString(
  value: string,
  dir: string,
  isDirectory: (path: string) => boolean,
): SourceResolution {
  if (isUrl(value)) {
    const { url, version, conflict } = splitUrlVersion(value);
    if (conflict) {
      return {
        ok: false,
        code: "conflicting-version",
        message: `source URL \`${value}\` names two versions: ${conflict.map((c) => `\`${c}\``).join(" and ")}`,
        hint: "keep one: `…repo.git@v0.17.0`, or `?branch=`/`?tag=`, or the separate `version` key",
      };
    }
    if (ARCHIVE.test(url.replace(/[?#].*$/, "")))
      return { ok: true, source: { type: "tarball", location: url } };
    return {
      ok: true,
      source: { type: "git", url, version: version ?? DEFAULT_VERSION },
      ...(version ? { urlVersion: version } : {}),
    };
  }
  const path = isAbsolute(value) ? value : resolve(dir, value);
  if (isDirectory(path)) return { ok: true, source: { type: "directory", path } };
  if (ARCHIVE.test(value)) return { ok: true, source: { type: "tarball", location: path } };
  return {
    ok: false,
    message: `source \`${value}\` is neither an existing directory (looked for ${path}), a source archive, nor a URL`,
    hint: "give a directory that exists, a .tar.gz archive, or a git URL such as https://github.com/unikraft/unikraft.git",
  };
}

/**
 * Split a version off a URL: `…/repo.git@v0.17.0`, or a `branch`, `tag` or
 * `version` query parameter (KraftKit's `urlHasVersion`, checked in that order).
 * The query is removed from the URL returned; other URL parts are kept.
 * When the URL names more than one different version (`…git@v2?branch=main`)
 * `conflict` lists them as written: KraftKit would silently take the first
 * it checks, which is rarely what the writer meant.
 */
export function splitUrlVersion(value: string): { url: string; version?: string; conflict?: string[] } {
  let url = value;
  const found: { version: string; spelled: string }[] = [];
  const q = url.indexOf("?");
  if (q !== -1) {
    const params = new URLSearchParams(url.slice(q + 1));
    for (const k of ["branch", "tag", "version"]) {
      const v = params.get(k);
      if (v) found.push({ version: v, spelled: `?${k}=${v}` });
    }
    url = url.slice(0, q);
  }
  // `@ref` counts only after the host, so `user@host` and `git@github.com:` stay intact.
  const hostEnd = SCP_LIKE.test(url) ? url.indexOf(":") : url.indexOf("/", url.indexOf("://") + 3);
  const at = url.lastIndexOf("@");
  if (hostEnd !== -1 && at > hostEnd) {
    found.push({ version: url.slice(at + 1), spelled: `@${url.slice(at + 1)}` });
    url = url.slice(0, at);
  }
  const version = found[0]?.version;
  const distinct = new Set(found.map((f) => f.version));
  const conflict = distinct.size > 1 ? found.map((f) => f.spelled) : undefined;
  return { url, ...(version ? { version } : {}), ...(conflict ? { conflict } : {}) };
}
