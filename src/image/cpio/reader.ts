/**
 * Kiln's CPIO reader: `newc` (`070701`) and its `crc` variant (`070702`),
 * plain or gzip-compressed (detected by the gzip magic), including several
 * archives concatenated, as Linux's `init/initramfs.c` accepts them.
 */
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { KilnError } from "../../core/errors.js";
import { type CpioReadEntry, typeOfMode } from "./types.js";

const HEADER_BYTES = 110;
const EMPTY = Buffer.alloc(0);

/** Pull-based reader over a chunk iterator, tracking the absolute offset. */
class ByteSource {
  private buf: Buffer = EMPTY;
  private off = 0;
  /** Bytes consumed so far. */
  offset = 0;

  constructor(private readonly it: AsyncIterator<Uint8Array>) {}

  private get available(): number {
    return this.buf.length - this.off;
  }

  /** Make at least `n` bytes available; false if the input ends first. */
  async fill(n: number): Promise<boolean> {
    while (this.available < n) {
      const r = await this.it.next();
      if (r.done) return false;
      const chunk = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
      this.buf = this.available === 0 ? chunk : Buffer.concat([this.buf.subarray(this.off), chunk]);
      this.off = 0;
    }
    return true;
  }

  /** Exactly `n` bytes, or undefined at end of input. */
  async read(n: number): Promise<Buffer | undefined> {
    if (!(await this.fill(n))) return undefined;
    const out = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    this.offset += n;
    return out;
  }

  /** Up to `max` bytes that are already (or next) available; undefined at end of input. */
  async some(max: number): Promise<Buffer | undefined> {
    if (this.available === 0 && !(await this.fill(1))) return undefined;
    const n = Math.min(max, this.available);
    const out = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    this.offset += n;
    return out;
  }

  /** What remains buffered (after a short read at the end of input). */
  leftover(): Buffer {
    return this.buf.subarray(this.off);
  }

  /** Skip NUL padding between concatenated archives; false at end of input. */
  async skipZeros(): Promise<boolean> {
    for (;;) {
      if (this.available === 0 && !(await this.fill(1))) return false;
      while (this.off < this.buf.length && this.buf[this.off] === 0) {
        this.off++;
        this.offset++;
      }
      if (this.available > 0) return true;
    }
  }
}

function truncated(offset: number, where: string): KilnError {
  return new KilnError("CPIO_TRUNCATED", `CPIO archive ends early, at byte ${offset}, inside ${where}`, {
    hint: "the file is incomplete; rebuild it",
  });
}

/** `./bin/sh`, `/bin/sh` → `bin/sh`; the root itself → `.`. */
function normaliseName(raw: string): string {
  let p = raw;
  for (;;) {
    if (p.startsWith("./")) p = p.slice(2);
    else if (p.startsWith("/")) p = p.slice(1);
    else break;
  }
  return p === "" ? "." : p;
}

/** The chunks of `input`, gunzipped if they start with the gzip magic (1f 8b). */
async function* decompressed(input: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const it = input[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const head = Buffer.from(first.value);
  if (!(head[0] === 0x1f && head[1] === 0x8b)) {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    return;
  }
  const rest = async function* () {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  };
  const gunzip = createGunzip();
  const src = Readable.from(rest());
  src.on("error", (e) => gunzip.destroy(e));
  src.pipe(gunzip);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (e) {
    throw new KilnError("CPIO_CORRUPT", `gzip-compressed CPIO archive is corrupt: ${(e as Error).message}`, {
      cause: e,
    });
  } finally {
    src.destroy();
  }
}

/**
 * Read a CPIO archive (newc or crc, optionally gzip) entry by entry.
 *
 * A file's content is available through `entry.open()` only while that entry
 * is the current one: iterate it before asking for the next entry (unread
 * content is skipped). Symlink targets are in `linkTarget`. The archive root
 * (`.`), if stored, is listed with path `.`. Errors: `CPIO_BAD_MAGIC` (not
 * newc: the magic seen and its offset), `CPIO_CORRUPT`, `CPIO_TRUNCATED`.
 */
export async function* readCpio(
  input: NodeJS.ReadableStream | AsyncIterable<Uint8Array>,
): AsyncGenerator<CpioReadEntry> {
  const src = new ByteSource(decompressed(input as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]());
  let sawAny = false;
  for (;;) {
    const at = src.offset;
    const header = await src.read(HEADER_BYTES);
    const head = header ?? src.leftover();
    if (head.length === 0 && !sawAny) throw new KilnError("CPIO_CORRUPT", "the CPIO archive is empty");
    const magic = head.toString("latin1", 0, 6);
    if (
      head.length > 0 &&
      magic !== "070701".slice(0, head.length) &&
      magic !== "070702".slice(0, head.length)
    ) {
      const printable = JSON.stringify(magic);
      throw new KilnError("CPIO_BAD_MAGIC", `not a newc CPIO archive: magic ${printable} at byte ${at}`, {
        hint:
          magic === "070707"
            ? 'this is the old portable ("odc") format; Kiln reads newc: bsdcpio -o --format newc'
            : "Kiln reads newc archives (070701), plain or gzip-compressed",
      });
    }
    if (!header) throw truncated(at, sawAny ? "a header (no TRAILER!!! found)" : "the first header");
    sawAny = true;
    const f: number[] = [];
    for (let i = 0; i < 13; i++) {
      const s = header.toString("latin1", 6 + i * 8, 14 + i * 8);
      if (!/^[0-9a-fA-F]{8}$/.test(s)) {
        throw new KilnError("CPIO_CORRUPT", `corrupt CPIO header at byte ${at}: field ${i + 1} is "${s}"`);
      }
      f.push(Number.parseInt(s, 16));
    }
    const [ino, mode, uid, gid, nlink, mtime, filesize, , , rdevMajor, rdevMinor, namesize] = f as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    if (namesize === 0) throw new KilnError("CPIO_CORRUPT", `corrupt CPIO header at byte ${at}: name size 0`);
    const namePadded = namesize + ((4 - ((HEADER_BYTES + namesize) % 4)) % 4);
    const nameBuf = await src.read(namePadded);
    if (!nameBuf) throw truncated(src.offset, `the name of the entry at byte ${at}`);
    const rawName = nameBuf.toString("utf8", 0, namesize - 1);
    const dataPad = (4 - (filesize % 4)) % 4;
    if (rawName === "TRAILER!!!") {
      await src.read(filesize + dataPad);
      if (!(await src.skipZeros())) return;
      continue;
    }
    const type = typeOfMode(mode);
    if (type === undefined) {
      throw new KilnError(
        "CPIO_CORRUPT",
        `${rawName}: unknown file type in mode 0${mode.toString(8)} (entry at byte ${at})`,
      );
    }
    const entry: CpioReadEntry = {
      path: normaliseName(rawName),
      rawName,
      type,
      mode: mode & 0o7777,
      uid,
      gid,
      mtimeSec: mtime,
      inode: ino,
      nlink,
    };
    let remaining = filesize;
    if (type === "symlink") {
      const target = await src.read(filesize);
      if (!target) throw truncated(src.offset, `the symlink ${rawName}`);
      entry.linkTarget = target.toString("utf8");
      remaining = 0;
    } else if (type === "char" || type === "block") {
      entry.rdevMajor = rdevMajor;
      entry.rdevMinor = rdevMinor;
    }
    if (type === "file") {
      entry.sizeBytes = filesize;
      let current = true;
      entry.open = () => {
        if (!current) {
          throw new KilnError("CPIO_READ_ORDER", `${rawName}: content read after moving to the next entry`);
        }
        return (async function* () {
          while (remaining > 0) {
            const part = await src.some(Math.min(remaining, 1 << 20));
            if (!part) throw truncated(src.offset, `the content of ${rawName}`);
            remaining -= part.length;
            yield part;
          }
        })();
      };
      yield entry;
      current = false;
    } else {
      yield entry;
    }
    while (remaining > 0) {
      const part = await src.some(remaining);
      if (!part) throw truncated(src.offset, `the content of ${rawName}`);
      remaining -= part.length;
    }
    if (dataPad > 0 && !(await src.read(dataPad)))
      throw truncated(src.offset, `the padding after ${rawName}`);
  }
}
