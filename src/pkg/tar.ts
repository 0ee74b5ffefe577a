/**
 * The tar side of package layers: KraftKit puts each file in its own
 * uncompressed tar layer with uid/gid 0, no user names and stripped times
 * (kraftkit `archive/archive.go` `TarFileWriter` with `WithStripTimes`), so
 * the same file always makes the same layer digest. Kiln writes the same,
 * and reads one named file back out of any tar layer.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { extract, pack } from "tar-stream";
import { KilnError } from "../core/errors.js";

/** A tar stream holding the file `src` as `dst` (e.g. `/unikraft/bin/kernel`), reproducibly. */
export async function singleFileTar(src: string, dst: string): Promise<Readable> {
  const s = await stat(src);
  if (!s.isFile()) {
    throw new KilnError("PKG_INPUT", `${src} is not a regular file`, {
      hint: "package a file (a directory goes through --initrd DIR)",
    });
  }
  const p = pack();
  const entry = p.entry({
    name: dst,
    size: s.size,
    mode: s.mode & 0o777,
    mtime: new Date(0),
    uid: 0,
    gid: 0,
    uname: "",
    gname: "",
    type: "file",
  });
  pipeline(createReadStream(src), entry).then(
    () => p.finalize(),
    (e: unknown) => p.destroy(e as Error),
  );
  return Readable.from(p as unknown as AsyncIterable<Buffer>, { objectMode: false });
}

/** `a/b`, `/a/b` and `./a/b` are the same path inside a layer. */
export function normalizeTarPath(name: string): string {
  return name.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, "");
}

/**
 * Copy the regular file `want` out of the tar stream `src` into `out`;
 * returns false when the layer has no such file. Hard links to it are not
 * followed: KraftKit's layers hold one plain file each.
 */
export async function extractTarFile(src: Readable, want: string, out: string): Promise<boolean> {
  const target = normalizeTarPath(want);
  const ex = extract();
  let found = false;
  let copying = false;
  let copied: Promise<void> | undefined;
  ex.on("entry", (header, stream, next) => {
    if (!found && !copying && header.type === "file" && normalizeTarPath(header.name) === target) {
      copying = true;
      copied = pipeline(stream, createWriteStream(out, { mode: 0o644 }));
      copied.then(
        () => {
          found = true;
          next();
        },
        (e: unknown) => ex.destroy(e as Error),
      );
      return;
    }
    stream.on("end", () => next());
    stream.resume();
  });
  await tolerateMissingTrailer(pipeline(src, ex), () => copying);
  if (copied) await copied.then(() => (found = true));
  return found;
}

/** The regular files' paths in a tar stream (normalized), for inspection and checks. */
export async function listTarFiles(src: Readable): Promise<string[]> {
  const ex = extract();
  const names: string[] = [];
  ex.on("entry", (header, stream, next) => {
    if (header.type === "file") names.push(normalizeTarPath(header.name));
    stream.on("end", () => next());
    stream.resume();
  });
  await tolerateMissingTrailer(pipeline(src, ex), () => true);
  return names;
}

/**
 * Layers some tools write end after the last entry without tar's two zero
 * blocks (umoci's `insert` layers do; GNU tar calls it "Unexpected EOF",
 * and Go's archive/tar, which KraftKit and containerd use, accepts it). The
 * entries read so far count; any other damage is a `PKG_BAD_LAYER`.
 */
async function tolerateMissingTrailer(done: Promise<void>, readEnough: () => boolean): Promise<void> {
  try {
    await done;
  } catch (e) {
    if (/Unexpected end of data/.test((e as Error).message) && readEnough()) return;
    throw new KilnError(
      "PKG_BAD_LAYER",
      `a package layer is not a readable tar archive: ${(e as Error).message}`,
      {
        cause: e,
        hint: "the layer is damaged or not a tar file",
      },
    );
  }
}
