/**
 * Sparse files in tar archives. GNU tar writes them in two ways:
 *
 * - PAX 1.0 (`tar --sparse --format=pax`, GNU tar manual "Storing Sparse
 *   Files", format 1.0): a regular-file entry named
 *   `…/GNUSparseFile.PID/NAME` with PAX records `GNU.sparse.major=1`,
 *   `GNU.sparse.minor=0`, `GNU.sparse.name` (the real name) and
 *   `GNU.sparse.realsize`; its data starts with the map in decimal text, one
 *   number a line (the count, then offset and size of each data region),
 *   padded with NULs to a 512-byte block, then the regions back to back.
 *   Kiln unpacks these.
 * - Old GNU (typeflag `S`) and PAX 0.x (`GNU.sparse.offset`/`numbytes`,
 *   `GNU.sparse.map`): the map sits in header fields tar-stream does not
 *   expose, so these are refused rather than written as the wrong file (issue 9:
 *   a 100 MiB file came out as 9 bytes).
 */
import { writeSync } from "node:fs";
import type { Header } from "tar-stream";
import { KilnError } from "../core/errors.js";

/** A PAX 1.0 sparse entry: its real name and size. */
export interface SparseEntry {
  name: string;
  realSizeBytes: number;
}

/** Longest sparse map Kiln reads (a map of a million regions is ~20 MiB of text). */
const MAX_MAP_BYTES = 32 * 1024 * 1024;

function sparseError(name: string, label: string, why: string): KilnError {
  return new KilnError("ROOTFS_UNSUPPORTED", `entry "${name}" in ${label} ${why}`, {
    hint: "re-create the archive without --sparse, or as PAX sparse 1.0 (tar --sparse --format=pax)",
  });
}

/**
 * The sparse description of an entry, undefined for an ordinary one; throws
 * for the sparse formats Kiln cannot unpack.
 */
export function sparseOf(h: Header, label: string): SparseEntry | undefined {
  const pax = (h.pax ?? {}) as Record<string, string>;
  const keys = Object.keys(pax).filter((k) => k.startsWith("GNU.sparse."));
  if (keys.length === 0) return undefined;
  if (pax["GNU.sparse.major"] !== "1" || pax["GNU.sparse.minor"] !== "0") {
    throw sparseError(h.name, label, "is a sparse file in GNU's PAX 0.x format, which Kiln cannot unpack");
  }
  const name = pax["GNU.sparse.name"];
  const real = pax["GNU.sparse.realsize"] ?? "";
  if (!name || !/^\d{1,15}$/.test(real)) {
    throw sparseError(
      h.name,
      label,
      "is a PAX 1.0 sparse file without GNU.sparse.name and GNU.sparse.realsize",
    );
  }
  return { name, realSizeBytes: Number(real) };
}

/**
 * Write a PAX 1.0 sparse entry's `data` (map, then regions) into `fd`, a new
 * empty file; holes stay holes. Returns when the file has its real size.
 */
export async function writeSparseData(
  fd: number,
  data: AsyncIterable<unknown>,
  sparse: SparseEntry,
  entry: string,
  label: string,
): Promise<void> {
  const bad = (why: string) => sparseError(entry, label, `has a bad sparse map: ${why}`);
  let buf = Buffer.alloc(0);
  let numbers: number[] | undefined;
  let want = -1;
  let consumed = 0;
  const regions: { offset: number; size: number }[] = [];
  let region = 0;
  let inRegion = 0;
  let skip = 0;
  for await (const raw of data) {
    let chunk = Buffer.from(raw as Uint8Array);
    if (numbers === undefined || numbers.length < want || want < 0) {
      buf = Buffer.concat([buf, chunk]);
      numbers ??= [];
      let nl = buf.indexOf(10);
      while (nl !== -1 && (want < 0 || numbers.length < want)) {
        const line = buf.subarray(0, nl).toString("latin1");
        if (!/^\d{1,15}$/.test(line)) throw bad(`"${line.slice(0, 20)}" is not a number`);
        numbers.push(Number(line));
        if (numbers.length === 1) {
          want = 1 + 2 * numbers[0]!;
          if (want * 2 > MAX_MAP_BYTES) throw bad(`${numbers[0]} regions`);
        }
        consumed += nl + 1;
        buf = buf.subarray(nl + 1);
        nl = buf.indexOf(10);
      }
      if (consumed + buf.length > MAX_MAP_BYTES) throw bad("the map is too long");
      if (want < 0 || numbers.length < want) continue;
      let end = 0;
      for (let i = 1; i < numbers.length; i += 2) {
        const offset = numbers[i]!;
        const size = numbers[i + 1]!;
        if (offset < end || offset + size > sparse.realSizeBytes) {
          throw bad(`region ${offset}+${size} overlaps another or ends past ${sparse.realSizeBytes} bytes`);
        }
        end = offset + size;
        regions.push({ offset, size });
      }
      // The map is padded to a whole 512-byte block; the regions follow.
      skip = (512 - (consumed % 512)) % 512;
      chunk = buf;
    }
    if (skip > 0) {
      const n = Math.min(skip, chunk.length);
      skip -= n;
      chunk = chunk.subarray(n);
    }
    while (chunk.length > 0) {
      const r = regions[region];
      if (!r) throw bad("more data than its regions hold");
      const n = Math.min(r.size - inRegion, chunk.length);
      for (let off = 0; off < n; ) off += writeSync(fd, chunk, off, n - off, r.offset + inRegion + off);
      inRegion += n;
      chunk = chunk.subarray(n);
      if (inRegion === r.size) {
        region++;
        inRegion = 0;
      }
    }
    while (regions[region]?.size === 0) region++;
  }
  if (numbers === undefined || want < 0 || numbers.length < want) throw bad("the map is cut short");
  while (regions[region]?.size === 0) region++;
  if (region < regions.length) throw bad("the data is cut short");
}
