/**
 * Archives that Unikraft libraries download at build time, served from the
 * cache or a mirror so builds work offline.
 *
 * A library's `Makefile.uk` calls `$(eval $(call fetch,libmusl,$(LIBMUSL_URL)))`
 * (also `fetch2`, `fetchas`, `fetchas2`). Unikraft's
 * `support/build/Makefile.rules` turns that into a rule for the file
 * `$(BUILD_DIR)/<lib>/<file>` (`<file>` = `$(notdir <url>)`, or `fetchas`'s
 * third argument) whose recipe runs wget, and which has no prerequisites: a
 * file already at that path is taken as is, checked against
 * `<LIB>_ORIGIN_SHA256`/`_SHA1`/`_SHA512`/`_MD5` when the library defines one,
 * and unpacked. So seeding means putting the archive exactly there.
 */
import { existsSync } from "node:fs";
import { copyFile, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { errnoCode, KilnError } from "../../core/errors.js";
import { produceAtomically } from "../../core/fs.js";
import { type Reporter, silentReporter } from "../../core/output.js";
import { archivesCacheDir } from "./cache.js";
import { hashFile } from "./checksum.js";
import type { MissingSource, SourceContext } from "./context.js";
import { formatMissing } from "./context.js";
import { downloadTo } from "./download.js";
import {
  archivePlaces,
  describeMirror,
  loadMirrors,
  type Mirror,
  type MirrorPlace,
  warnMissingMirrors,
} from "./mirrors.js";

export type ChecksumAlgorithm = "sha256" | "sha1" | "sha512" | "md5";

/** One archive a library downloads at build time. */
export interface ArchiveNeed {
  /** Make's library name (`libmusl`): the archive goes to `$(BUILD_DIR)/<lib>/`. */
  lib: string;
  /** The primary URL, variables expanded. */
  url: string;
  /** Secondary URLs (`fetch2`, `fetchas2`). */
  altUrls: string[];
  /** The file name make expects in `$(BUILD_DIR)/<lib>/`. */
  fileName: string;
  /** `<LIB>_ORIGIN_<ALGO>` when the library defines one. */
  checksum?: { algorithm: ChecksumAlgorithm; hex: string };
}

/** Variable assignments of a makefile, in order (last wins, `?=` only if unset). */
export function makeVariables(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  const joined = text.replace(/\\\n/g, " ");
  for (const line of joined.split("\n")) {
    const m = /^\s*(?:override\s+|export\s+)?([A-Za-z0-9_.-]+)\s*(::=|:=|\?=|\+=|=)\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    const [, name, op, value] = m as unknown as [string, string, string, string];
    const v = value.replace(/\s+#.*$/, "");
    if (op === "?=" && vars.has(name)) continue;
    if (op === "+=") vars.set(name, `${vars.get(name) ?? ""} ${v}`.trim());
    else vars.set(name, v);
  }
  return vars;
}

/** Expand `$(VAR)`/`${VAR}` references recursively; unknown ones stay as written. */
export function expandVariables(text: string, vars: Map<string, string>, depth = 0): string {
  if (depth > 20) return text;
  return text.replace(/\$[({]([A-Za-z0-9_.-]+)[)}]/g, (whole, name: string) => {
    const v = vars.get(name);
    return v === undefined ? whole : expandVariables(v, vars, depth + 1);
  });
}

/** Top-level comma-separated arguments of a `$(call …)` body (respecting nested parentheses). */
function splitArgs(body: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of body) {
    if (ch === "(" || ch === "{") depth++;
    if (ch === ")" || ch === "}") depth--;
    if (ch === "," && depth === 0) {
      args.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  args.push(cur.trim());
  return args;
}

/** The body of each `$(call NAME,…)` in `text`, for NAME in `names`. */
function callBodies(text: string, names: string[]): { name: string; body: string }[] {
  const out: { name: string; body: string }[] = [];
  const re = new RegExp(`\\$\\(call\\s+(${names.join("|")})\\s*,`, "g");
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let depth = 1;
    let i = re.lastIndex;
    for (; i < text.length && depth > 0; i++) {
      if (text[i] === "(") depth++;
      else if (text[i] === ")") depth--;
    }
    out.push({ name: m[1]!, body: text.slice(re.lastIndex, i - 1) });
  }
  return out;
}

function notdir(url: string): string {
  return (
    url
      .replace(/[?#].*$/, "")
      .split("/")
      .pop() ?? url
  );
}

/**
 * The archives a `Makefile.uk` downloads (pure). Lines that are comments are
 * ignored; conditionals are not evaluated (every `fetch` counts).
 */
export function parseArchiveNeeds(makefileText: string): ArchiveNeed[] {
  const text = makefileText
    .replace(/\\\n/g, " ")
    .split("\n")
    .filter((l) => !/^\s*#/.test(l))
    .join("\n");
  const vars = makeVariables(text);
  const needs: ArchiveNeed[] = [];
  for (const { name, body } of callBodies(text, ["fetch", "fetch2", "fetchas", "fetchas2"])) {
    const a = splitArgs(body).map((x) => expandVariables(x, vars));
    const lib = a[0] ?? "";
    const url = a[1] ?? "";
    if (!lib || !url) continue;
    const altUrls = name === "fetch2" || name === "fetchas2" ? [a[2] ?? ""].filter((u) => u) : [];
    const fileName =
      name === "fetchas" ? (a[2] ?? notdir(url)) : name === "fetchas2" ? (a[3] ?? notdir(url)) : notdir(url);
    const need: ArchiveNeed = { lib, url, altUrls, fileName };
    const prefix = lib.toUpperCase();
    for (const algorithm of ["sha256", "sha1", "sha512", "md5"] as const) {
      const v = vars.get(`${prefix}_ORIGIN_${algorithm.toUpperCase()}`);
      if (v) {
        need.checksum = { algorithm, hex: expandVariables(v, vars).replace(/^"|"$/g, "").toLowerCase() };
        break;
      }
    }
    needs.push(need);
  }
  return needs;
}

/** The archives a library directory's `Makefile.uk` downloads (none when it has no `Makefile.uk`). */
export async function archiveNeeds(libDir: string): Promise<ArchiveNeed[]> {
  try {
    return parseArchiveNeeds(await readFile(join(libDir, "Makefile.uk"), "utf8"));
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return [];
    throw e;
  }
}

/**
 * Other names the same archive goes by in a mirror: Debian's source package
 * name for an upstream tarball (`musl-1.2.3.tar.gz` → `musl_1.2.3.orig.tar.gz`),
 * so a mirror stocked with `apt-get source --download-only` serves it.
 */
export function archiveAliases(fileName: string): string[] {
  const m = /^(.+?)-(\d[\w.+~]*?)\.(tar\.gz|tar\.xz|tar\.bz2|tgz|zip)$/.exec(fileName);
  return m ? [fileName, `${m[1]}_${m[2]}.orig.${m[3]}`] : [fileName];
}

async function checksumMatches(file: string, need: ArchiveNeed): Promise<boolean> {
  if (!need.checksum) return true;
  return (await hashFile(file, need.checksum.algorithm)) === need.checksum.hex;
}

/**
 * Make sure an archive is in the cache: from the cache, the mirrors (each
 * alias name), then its URLs unless offline. Returns the cached path, or
 * undefined after recording what is missing in `ctx.missing`.
 */
export async function ensureArchiveCached(
  ctx: SourceContext,
  need: ArchiveNeed,
): Promise<string | undefined> {
  const cached = join(archivesCacheDir(ctx.env), need.fileName);
  const tried: string[] = [];
  if (existsSync(cached)) {
    if (await checksumMatches(cached, need)) return cached;
    tried.push(`${cached} (cache: ${need.checksum?.algorithm} mismatch)`);
  } else tried.push(`${cached} (cache: absent)`);
  const sources = [
    ...archivePlaces(ctx.mirrors, archiveAliases(need.fileName)),
    ...(ctx.offline ? [] : [need.url, ...need.altUrls].map((from): MirrorPlace => ({ from }))),
  ];
  for (const { from, note } of sources) {
    if (note) {
      tried.push(`${from} (${note})`);
      continue;
    }
    ctx.signal?.throwIfAborted();
    const err = await downloadTo(from, cached, ctx.signal);
    if (err) {
      tried.push(`${from} (${err})`);
      continue;
    }
    if (await checksumMatches(cached, need)) return cached;
    // Never leave a wrong archive in the cache: the next build would find it first.
    await rm(cached, { force: true });
    tried.push(`${from} (${need.checksum?.algorithm} differs from ${need.lib.toUpperCase()}_ORIGIN_*)`);
  }
  if (ctx.offline) tried.push(`${need.url} (upstream not contacted (--offline))`);
  ctx.missing.push({ what: `archive ${need.fileName} for ${need.lib} (${need.url})`, tried });
  return undefined;
}

export interface SeedOptions {
  offline?: boolean;
  env?: NodeJS.ProcessEnv;
  reporter?: Reporter;
  signal?: AbortSignal;
  /** Resolves relative mirror directories. */
  cwd?: string;
}

/** Where an archive was placed for make. */
export interface SeededArchive {
  need: ArchiveNeed;
  /** `<buildDir>/<lib>/<fileName>`. */
  path: string;
}

/**
 * Place each archive where Unikraft's make expects it
 * (`<buildDir>/<lib>/<fileName>`), from the cache or the mirrors (or the
 * upstream unless offline). `mirrors` are `--with-mirror` values (or parsed
 * mirrors), tried before `KILN_MIRRORS` and the config file's. Throws
 * `SOURCES_MISSING` naming every archive not found and the places tried.
 */
export async function seedArchives(
  needs: ArchiveNeed[],
  buildDir: string,
  mirrors: readonly (string | Mirror)[] = [],
  opts: SeedOptions = {},
): Promise<SeededArchive[]> {
  const env = opts.env ?? process.env;
  const ctx: SourceContext = {
    env,
    mirrors: await effectiveMirrors(mirrors, env, opts.cwd, opts.reporter),
    offline: opts.offline ?? false,
    reporter: opts.reporter ?? silentReporter,
    missing: [],
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  const out: SeededArchive[] = [];
  for (const need of needs) {
    const path = join(buildDir, need.lib, need.fileName);
    if (existsSync(path) && (await checksumMatches(path, need))) {
      out.push({ need, path });
      continue;
    }
    const cached = await ensureArchiveCached(ctx, need);
    if (!cached) continue;
    await produceAtomically(path, (tmp) => copyFile(cached, tmp));
    out.push({ need, path });
  }
  throwIfMissing(ctx.missing, ctx.offline);
  return out;
}

/** Given mirrors first, then `KILN_MIRRORS` and the config file's. */
export async function effectiveMirrors(
  given: readonly (string | Mirror)[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
  reporter?: Reporter,
): Promise<Mirror[]> {
  const flags = given.filter((m): m is string => typeof m === "string");
  const parsed = given.filter((m): m is Mirror => typeof m !== "string");
  const loaded = await loadMirrors({ flags, env, ...(cwd ? { cwd } : {}) });
  const seen = new Set(parsed.map(describeMirror));
  const mirrors = [...parsed, ...loaded.filter((m) => !seen.has(describeMirror(m)))];
  if (reporter) warnMissingMirrors(mirrors, reporter);
  return mirrors;
}

/** Throw `SOURCES_MISSING` listing every missing source and the places tried. */
export function throwIfMissing(missing: MissingSource[], offline: boolean): void {
  if (missing.length === 0) return;
  const n = missing.length;
  // The reasons come from describeNetFailure: a network failure deserves its own advice.
  const network = missing.some((m) =>
    m.tried.some((t) => /\((DNS: |connection refused|timed out|TLS: )/.test(t)),
  );
  throw new KilnError(
    "SOURCES_MISSING",
    `${n} source${n === 1 ? "" : "s"} not found${offline ? " offline (cache and mirrors only)" : ""}: ${missing
      .map((m) => m.what)
      .join("; ")}`,
    {
      details: formatMissing(missing),
      hint: offline
        ? "run `kiln fetch` once with network access, or add a mirror that has them (--with-mirror DIR, KILN_MIRRORS)"
        : network
          ? "the network failed for these (reasons above): check the host names, proxy and connectivity, or add a mirror (--with-mirror DIR, KILN_MIRRORS)"
          : "check the URLs and versions in the Kraftfile, or add a mirror (--with-mirror DIR, KILN_MIRRORS)",
    },
  );
}
