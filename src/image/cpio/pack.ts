/**
 * Directory → CPIO file: walk, merge the device/ownership spec and extra
 * entries, write newc, optionally gzip (Linux initramfs accepts it; Unikraft's
 * `ukcpio` needs the archive uncompressed), and rename into place.
 */
import { createWriteStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { KilnError } from "../../core/errors.js";
import { produceAtomically } from "../../core/fs.js";
import { type Reporter, silentReporter } from "../../core/output.js";
import { formatBytes } from "../../core/units.js";
import { fdSink, streamSink } from "./sink.js";
import { type parseDeviceSpec, readDeviceSpecFile, type SpecEntry } from "./spec.js";
import type { CpioEntry } from "./types.js";
import { walkDirectorySync } from "./walk.js";
import { writeCpioTo } from "./writer.js";

export interface PackCpioOptions {
  /**
   * Directory whose content becomes the archive root. Absent: the archive
   * holds only `extraEntries` (and spec lines), e.g. entries a caller merged
   * from several inputs (a spec v0.5 target's `initrd.input`).
   */
  sourceDir?: string;
  /** Archive to write (atomically: temporary file, then rename). */
  output: string;
  /** gzip the archive (for Linux; Unikraft needs it uncompressed). */
  gzip?: boolean;
  /** Keep the files' uid/gid instead of root:root. */
  keepOwner?: boolean;
  /** Clamp mtimes; defaults to the `SOURCE_DATE_EPOCH` environment variable when set. */
  sourceDateEpoch?: number;
  /**
   * Path of a device/ownership spec (see {@link parseDeviceSpec}), or several:
   * a later spec's line for a path overrides an earlier one's.
   */
  deviceSpec?: string | readonly string[];
  /** Entries added to (or replacing) the tree's, e.g. a generated `/init` (a leading `/` or `./` is dropped). */
  extraEntries?: CpioEntry[];
  reporter?: Reporter;
  signal?: AbortSignal;
}

export interface PackCpioResult {
  /** Members written (excluding the trailer). */
  entries: number;
  /** Size of the output file (compressed size with `gzip`). */
  sizeBytes: number;
}

/**
 * Read `SOURCE_DATE_EPOCH` (https://reproducible-builds.org/specs/source-date-epoch/):
 * undefined when unset or empty, else a non-negative integer or `INVALID_SOURCE_DATE_EPOCH`.
 */
export function sourceDateEpochFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === "") return undefined;
  if (!/^\d+$/.test(v)) {
    throw new KilnError(
      "INVALID_SOURCE_DATE_EPOCH",
      `SOURCE_DATE_EPOCH must be whole seconds since 1970; got "${v}"`,
      { hint: "set it to a Unix time such as $(git log -1 --format=%ct), or unset it" },
    );
  }
  return Number(v);
}

/** Archive order: component by component, a parent before its children (the walker's order). */
export function compareArchivePaths(a: string, b: string): number {
  const pa = a.split("/");
  const pb = b.split("/");
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] !== pb[i]) return pa[i]! < pb[i]! ? -1 : 1;
  }
  return pa.length - pb.length;
}

function specError(o: CpioEntry, message: string): KilnError {
  const loc = (o as Partial<SpecEntry>).location;
  return new KilnError("CPIO_SPEC_INVALID", message, {
    ...(loc ? { location: loc } : {}),
    hint: "fix or remove that line of the device spec",
  });
}

/**
 * Merge sorted tree entries with overlay entries (spec lines and extra
 * entries), adding the parent directories an overlay entry needs (0755,
 * root-owned) when the tree lacks them. Spec `f` and `d` lines on an existing
 * path set its mode and owner; other overlay entries replace the tree's.
 */
export function* mergeEntries(
  tree: Iterable<CpioEntry>,
  overlay: CpioEntry[],
  impliedMtimeSec: number,
): Generator<CpioEntry> {
  const byPath = new Map<string, CpioEntry>();
  for (const o of overlay) byPath.set(o.path, o);
  const ov = [...byPath.values()].sort((a, b) => compareArchivePaths(a.path, b.path));
  let j = 0;
  const open: string[] = [];
  const place = function* (e: CpioEntry): Generator<CpioEntry> {
    while (open.length > 0 && !e.path.startsWith(`${open[open.length - 1]}/`)) open.pop();
    const parts = e.path.split("/");
    const have = open.length === 0 ? 0 : open[open.length - 1]!.split("/").length;
    for (let k = have + 1; k < parts.length; k++) {
      const dir = parts.slice(0, k).join("/");
      yield { path: dir, type: "dir", mode: 0o755, uid: 0, gid: 0, mtimeSec: impliedMtimeSec };
      open.push(dir);
    }
    yield e;
    if (e.type === "dir") open.push(e.path);
  };
  const isOverride = (o: CpioEntry) => "location" in o && (o.type === "file" || o.type === "dir");
  const addOnly = function* (o: CpioEntry): Generator<CpioEntry> {
    if (isOverride(o) && o.type === "file") {
      throw specError(o, `"f" line names ${o.path}, which is not a file of the source tree`);
    }
    yield* place(o);
  };
  for (const t of tree) {
    while (j < ov.length && compareArchivePaths(ov[j]!.path, t.path) < 0) yield* addOnly(ov[j++]!);
    if (j < ov.length && ov[j]!.path === t.path) {
      const o = ov[j++]!;
      if (isOverride(o)) {
        if (o.type !== t.type)
          throw specError(o, `spec says ${o.path} is a ${o.type}, but the tree has a ${t.type}`);
        yield* place({ ...t, mode: o.mode, uid: o.uid, gid: o.gid });
        continue;
      }
      if (t.type === "dir") throw specError(o, `${o.path} would replace a directory of the source tree`);
      yield* place(o);
      continue;
    }
    yield* place(t);
  }
  while (j < ov.length) yield* addOnly(ov[j++]!);
}

async function loadSpec(path: string, mtimeSec: number): Promise<CpioEntry[]> {
  return (await readDeviceSpecFile(path)).map((e) => ({ ...e, mtimeSec }));
}

/**
 * Pack `sourceDir` into the CPIO archive `output` (newc, optionally gzip).
 * Deterministic: sorted entries, root:root unless `keepOwner`, mtimes clamped
 * to `sourceDateEpoch` (or `SOURCE_DATE_EPOCH`), sequential inode numbers.
 * Atomic: an error or interruption leaves no file at `output`. The archive is
 * never packed into itself when `output` lies inside `sourceDir`.
 */
export async function packCpio(opts: PackCpioOptions): Promise<PackCpioResult> {
  const reporter = opts.reporter ?? silentReporter;
  const epoch = opts.sourceDateEpoch ?? sourceDateEpochFromEnv();
  const specMtime = epoch ?? 0;
  const specs = typeof opts.deviceSpec === "string" ? [opts.deviceSpec] : (opts.deviceSpec ?? []);
  const overlay: CpioEntry[] = [];
  for (const spec of specs) overlay.push(...(await loadSpec(spec, specMtime)));
  for (const e of opts.extraEntries ?? []) {
    // Callers often write archive paths as absolute ("/init"); the archive stores them relative.
    const path = e.path.replace(/^(\.?\/)+/, "");
    overlay.push({ ...e, path, mtimeSec: epoch !== undefined && e.mtimeSec > epoch ? epoch : e.mtimeSec });
  }
  const output = resolve(opts.output);
  const progress = reporter.progress(`Packing ${opts.output}`);
  const tmpPrefix = join(dirname(output), `.${basename(output)}.kiln-tmp-`);
  const result = await produceAtomically(output, async (tmp) => {
    const tree =
      opts.sourceDir === undefined
        ? []
        : walkDirectorySync(opts.sourceDir, {
            keepOwner: opts.keepOwner,
            sourceDateEpoch: epoch,
            // The archive itself, this run's temporary file and any left by an interrupted run.
            exclude: (abs) => abs === output || abs === tmp || abs.startsWith(tmpPrefix),
          });
    const onProgress = (n: number, bytes: number) => progress.update(`entries, ${formatBytes(bytes)}`, n);
    const entries = mergeEntries(tree, overlay, specMtime);
    if (!opts.gzip) {
      const fh = await open(tmp, "w", 0o644);
      try {
        return await writeCpioTo(entries, fdSink(fh.fd), { signal: opts.signal, onProgress });
      } finally {
        await fh.close();
      }
    }
    // The file stream owns its descriptor: when the pipeline fails it destroys the stream, which
    // closes the fd whatever autoClose says, so a second close here used to replace the real
    // error (the 4 GiB newc limit, an unreadable file) with EBADF (issue 9).
    const gz = createGzip({ level: 6 });
    const piped = pipeline(gz, createWriteStream(tmp, { mode: 0o644, highWaterMark: 1 << 20 }));
    try {
      const written = await writeCpioTo(entries, streamSink(gz, { recycles: true, end: true }), {
        signal: opts.signal,
        onProgress,
      });
      await piped;
      return written;
    } catch (e) {
      gz.destroy();
      await piped.catch(() => {});
      throw e;
    }
  });
  const sizeBytes = (await stat(output)).size;
  progress.done(`${result.entries} entries, ${formatBytes(sizeBytes)}`);
  return { entries: result.entries, sizeBytes };
}
