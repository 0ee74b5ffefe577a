/**
 * File writes that never leave a half-written artifact: write to a temporary
 * file beside the target, then rename (atomic on POSIX within a filesystem).
 */
import { randomBytes } from "node:crypto";
import type { Stats } from "node:fs";
import { rmSync } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** A temporary path in the same directory as `target` (so rename is atomic). */
export function tempPathFor(target: string): string {
  return join(
    dirname(target),
    `.${basename(target)}.kiln-tmp-${process.pid}-${randomBytes(4).toString("hex")}`,
  );
}

/** Write `data` to `target` atomically (temp file, fsync, rename). */
export async function writeFileAtomic(
  target: string,
  data: string | Uint8Array,
  mode = 0o644,
): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  const fh = await open(tmp, "w", mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await rename(tmp, target);
}

/**
 * Produce `target` through `produce(tmpPath)` and rename it into place only if
 * `produce` succeeds; on failure (or interruption by an exception) the
 * temporary file or directory is removed and `target` is untouched.
 */
export async function produceAtomically<T>(
  target: string,
  produce: (tmpPath: string) => Promise<T>,
): Promise<T> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  tempPaths.add(tmp);
  try {
    const result = await produce(tmp);
    await rename(tmp, target);
    return result;
  } catch (e) {
    await rm(tmp, { force: true, recursive: true });
    throw e;
  } finally {
    tempPaths.delete(tmp);
  }
}

/** Temporary outputs in progress, removed by {@link cleanupTempPaths} on SIGINT. */
const tempPaths = new Set<string>();

/** Remove temporary outputs still in progress (called by the CLI on interruption). */
export async function cleanupTempPaths(): Promise<void> {
  await Promise.all([...tempPaths].map((p) => rm(p, { force: true, recursive: true })));
}

/**
 * The same, synchronously, for the process's `exit` event: work still in
 * flight while {@link cleanupTempPaths} ran (an open, a tool just spawned) can
 * create a temporary output after it was removed.
 */
export function cleanupTempPathsSync(): void {
  for (const p of tempPaths) rmSync(p, { force: true, recursive: true });
  tempPaths.clear();
}

/** What kind of file a stat result describes, in words for error messages. */
export function fileTypeName(st: Stats): string {
  if (st.isFile()) return "a regular file";
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSymbolicLink()) return "a symbolic link";
  return "not a regular file";
}

/**
 * Stat `path` (following symlinks) without opening it: opening a FIFO for
 * reading blocks until a writer appears, and a blocked open ignores signals
 * Node would handle (issue 9: `kiln run FIFO` hung, SIGTERM ignored).
 * Undefined when it does not exist (other errors are thrown).
 */
export async function statIfExists(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}
