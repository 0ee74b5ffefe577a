/**
 * Running the CLI's CommonJS bundle (`dist/bundle/kiln.cjs`, written by
 * scripts/bundle.mjs) with a V8 code cache, for Nodes without
 * `module.enableCompileCache` (< 22.1; bin/kiln.js uses that where it
 * exists). Compiling the bundle's modules was most of Kiln's start-up before
 * it spawns QEMU (bench/startup); with the cache V8 reads the bytecode it
 * compiled last time instead of parsing and compiling again.
 *
 * The cache is the documented `vm.Script` pair (`cachedData` in,
 * `createCachedData()` out), one file per bundle, Node and command
 * (`run`, `pkg.pull`: each compiles different functions), under Kiln's
 * cache directory. It can never serve stale code: the file name carries the
 * hash of the bundle's text (its first line, written at build time) and the
 * bundle file's size, mtime and inode, and V8 itself rejects a cache made by
 * another V8 version or with other flags. Made at exit (so it holds every
 * function the command compiled) when there was none or V8 rejected it,
 * written to a temporary file and renamed; a cache directory that is
 * missing, read-only or unreadable only costs the speed.
 *
 * Imports Node's built-ins only: it runs before anything else of Kiln.
 */
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import vm from "node:vm";

/** What {@link runWithCodeCache} did with the cache (for tests and `KILN_CODE_CACHE=debug`). */
export type CodeCacheOutcome = "used" | "rejected" | "absent" | "disabled";

export interface CodeCacheOptions {
  /** The CommonJS bundle; its first line is `// kiln-bundle <sha256 of the rest>`. */
  bundle: string;
  /** Directory of the cache files; undefined: run without a cache. */
  cacheDir: string | undefined;
  /** The command the cache is for ({@link commandKey}: `run`, `pkg.pull`); undefined shares one file. */
  command: string | undefined;
  /**
   * `import()` for the bundle's ES modules (a vm.Script has none of its own):
   * a specifier relative to the bundle's directory.
   */
  importEsm: (specifier: string) => Promise<unknown>;
}

const HEADER = /^\/\/ kiln-bundle ([0-9a-f]{64})\n/;

const WORD = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * The command a cache is for: the first argument, and the second when it is
 * a word too and no file of that name exists (`pkg pull`, `config menu`; not
 * `run hello` for a directory `hello`). Each compiles different functions.
 */
export function commandKey(args: readonly string[], exists: (path: string) => boolean): string | undefined {
  const [first, second] = args;
  if (first === undefined || !WORD.test(first)) return undefined;
  return second !== undefined && WORD.test(second) && !exists(second) ? `${first}.${second}` : first;
}

/** Kiln's cache directory as core/paths.ts finds it (KILN_HOME, else XDG_CACHE_HOME, else ~/.cache). */
export function codeCacheDir(env: NodeJS.ProcessEnv, home: string): string {
  if (env.KILN_HOME) return join(env.KILN_HOME, "cache", "code-cache");
  const xdg = env.XDG_CACHE_HOME?.startsWith("/") ? env.XDG_CACHE_HOME : join(home, ".cache");
  return join(xdg, "kiln", "code-cache");
}

/**
 * The cache file's name for a bundle: its text's hash, its file's identity,
 * Node's version and architecture, and the command. Undefined when the bundle
 * has no hash line (then it runs without a cache).
 */
export function codeCacheName(
  source: string,
  stat: { size: number; mtimeMs: number; ino: number },
  command: string | undefined,
): string | undefined {
  const hash = HEADER.exec(source)?.[1];
  if (!hash) return undefined;
  const word = command !== undefined && /^[a-z][a-z0-9.-]{0,64}$/.test(command) ? command : "other";
  const file = `${stat.size}-${Math.trunc(stat.mtimeMs)}-${stat.ino}`;
  return `${hash.slice(0, 16)}-${file}-${process.version}-${process.arch}-${word}.v8`;
}

/**
 * Compile and run the bundle as Node runs a CommonJS module, through the
 * cache when there is a valid one; returns what happened to the cache.
 */
export function runWithCodeCache(opts: CodeCacheOptions): CodeCacheOutcome {
  const source = readFileSync(opts.bundle, "utf8");
  const stat = statSync(opts.bundle);
  const name = opts.cacheDir === undefined ? undefined : codeCacheName(source, stat, opts.command);
  const file = name === undefined ? undefined : join(opts.cacheDir!, name);
  let cachedData: Buffer | undefined;
  if (file !== undefined) {
    try {
      cachedData = readFileSync(file);
    } catch {
      // none yet, or unreadable: compiled from source, and written at exit
    }
  }
  // The wrapper keeps the bundle's first line on line 1 (stack traces keep their line numbers).
  const script = new vm.Script(
    `(function (exports, require, module, __filename, __dirname, __kilnImport) {${source}\n})`,
    { filename: opts.bundle, ...(cachedData ? { cachedData } : {}) },
  );
  const outcome: CodeCacheOutcome =
    file === undefined
      ? "disabled"
      : cachedData === undefined
        ? "absent"
        : script.cachedDataRejected
          ? "rejected"
          : "used";
  if (file !== undefined && outcome !== "used") process.once("exit", () => writeCache(script, file));
  const dir = dirname(opts.bundle);
  const module = { exports: {} as unknown, filename: opts.bundle };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run.call(
    module.exports,
    module.exports,
    createRequire(opts.bundle),
    module,
    opts.bundle,
    dir,
    (specifier: string) => opts.importEsm(pathToFileURL(join(dir, specifier)).href),
  );
  return outcome;
}

/** Write the cache atomically and drop the caches of other bundles; never throws. */
function writeCache(script: vm.Script, file: string): void {
  const dir = dirname(file);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const data = script.createCachedData();
    mkdirSync(dir, { recursive: true });
    writeFileSync(tmp, data);
    renameSync(tmp, file);
    // Each build or Node upgrade starts new files: the old ones are never read again.
    const prefix = file.slice(dir.length + 1).split("-")[0]!;
    for (const f of readdirSync(dir)) {
      if (!f.startsWith(prefix) && f.endsWith(".v8")) unlinkSync(join(dir, f));
    }
  } catch {
    // A cache directory Kiln cannot write only costs speed.
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was written
    }
  }
}
