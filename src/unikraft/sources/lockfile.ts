/**
 * `kiln.lock`, beside the Kraftfile: the exact sources a build used, so it
 * can be repeated (the idea of Cargo.lock / package-lock.json). YAML, like
 * the Kraftfile it sits next to:
 *
 * ```yaml
 * version: 1
 * components:
 *   - role: core            # core | library | template
 *     name: unikraft
 *     source: { type: git, url: https://github.com/unikraft/unikraft, version: stable }
 *     ref: RELEASE-0.17.0
 *     commit: 484ff209…
 *   - role: library
 *     name: musl
 *     source: { type: tarball, location: https://example.org/lib-musl.tar.gz }
 *     sha256: 9f1c…
 * archives:
 *   - lib: libmusl
 *     file: musl-1.2.3.tar.gz
 *     url: https://www.musl-libc.org/releases/musl-1.2.3.tar.gz
 *     sha256: 7d5b…
 * ```
 *
 * An entry applies while the Kraftfile still asks for the same source (type,
 * URL/path, version); change the Kraftfile and that component is resolved
 * afresh. `--update` ignores the lock and rewrites it.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { errnoCode, KilnError } from "../../core/errors.js";
import { writeFileAtomic } from "../../core/fs.js";
import type { ComponentSource } from "../../kraftfile/types.js";

/** The lock file's name, in the Kraftfile's directory. */
export const LOCK_FILE_NAME = "kiln.lock";

export type ComponentRole = "core" | "library" | "template";

export interface LockedComponent {
  role: ComponentRole;
  name: string;
  /** The source as the Kraftfile asked for it. */
  source: ComponentSource;
  /** Git: the ref the version resolved to (`RELEASE-0.17.0`, `staging`). */
  ref?: string;
  /** Git: the commit checked out. */
  commit?: string;
  /** Tarball: SHA-256 of the archive. */
  sha256?: string;
}

export interface LockedArchive {
  /** Make's library name (`libmusl`), the first argument of `fetch`. */
  lib: string;
  file: string;
  url: string;
  sha256: string;
}

export interface LockFile {
  version: 1;
  components: LockedComponent[];
  archives: LockedArchive[];
}

/** Path of a project's lock file. */
export function lockFilePath(projectDir: string): string {
  return join(projectDir, LOCK_FILE_NAME);
}

/** Whether two sources are the same request (so a lock entry still applies). */
export function sameSource(a: ComponentSource, b: ComponentSource): boolean {
  if (a.type !== b.type) return false;
  if (a.type === "git" && b.type === "git") return a.url === b.url && a.version === b.version;
  if (a.type === "directory" && b.type === "directory") return a.path === b.path;
  if (a.type === "tarball" && b.type === "tarball") return a.location === b.location;
  return false;
}

/** The lock entry for a component, when it still matches the Kraftfile's source. */
export function findLocked(
  lock: LockFile | undefined,
  role: ComponentRole,
  name: string,
  source: ComponentSource,
): LockedComponent | undefined {
  const e = lock?.components.find((c) => c.role === role && c.name === name);
  return e && sameSource(e.source, source) ? e : undefined;
}

/** Parse a lock file's text (pure). Throws `LOCK_INVALID`. */
export function parseLockFile(text: string, file: string): LockFile {
  const bad = (why: string) =>
    new KilnError("LOCK_INVALID", `${file}: ${why}`, {
      hint: `delete ${file} or run with --update to write a fresh one`,
    });
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw bad(`not valid YAML (${(e as Error).message.split("\n")[0]})`);
  }
  if (typeof doc !== "object" || doc === null) throw bad("expected a mapping with version and components");
  const d = doc as Record<string, unknown>;
  if (d.version !== 1) throw bad(`unsupported version ${JSON.stringify(d.version)} (Kiln writes 1)`);
  const components = d.components ?? [];
  const archives = d.archives ?? [];
  if (!Array.isArray(components)) throw bad("components must be a list");
  if (!Array.isArray(archives)) throw bad("archives must be a list");
  components.forEach((c, i) => {
    const e = c as Partial<LockedComponent>;
    if (typeof e?.name !== "string" || !["core", "library", "template"].includes(e.role as string)) {
      throw bad(`components[${i}] needs a name and a role (core, library, template)`);
    }
    if (typeof e.source !== "object" || e.source === null || typeof e.source.type !== "string") {
      throw bad(`components[${i}] (${e.name}) needs a source`);
    }
  });
  archives.forEach((a, i) => {
    const e = a as Partial<LockedArchive>;
    if (typeof e?.file !== "string" || typeof e.sha256 !== "string" || typeof e.lib !== "string") {
      throw bad(`archives[${i}] needs lib, file and sha256`);
    }
  });
  return { version: 1, components: components as LockedComponent[], archives: archives as LockedArchive[] };
}

/** The lock file's text (pure). */
export function formatLockFile(lock: LockFile): string {
  const header =
    "# kiln.lock: the exact sources of this project's last fetch, written by Kiln.\n" +
    "# Commit it to repeat builds exactly; `kiln fetch --update` re-resolves versions.\n";
  return header + stringify(lock, { lineWidth: 0 });
}

/** Read a project's lock file, or undefined when there is none. */
export async function readLockFile(file: string): Promise<LockFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return undefined;
    throw e;
  }
  return parseLockFile(text, file);
}

/** Write a lock file atomically, unless its content is unchanged. */
export async function writeLockFile(file: string, lock: LockFile): Promise<void> {
  const text = formatLockFile(lock);
  let old: string | undefined;
  try {
    old = await readFile(file, "utf8");
  } catch {
    old = undefined;
  }
  if (old !== text) await writeFileAtomic(file, text);
}
