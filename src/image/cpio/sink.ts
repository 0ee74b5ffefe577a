/**
 * Where the CPIO writer's chunks go. A sink that lets the writer reuse its
 * chunks (a file descriptor, or a zlib stream, which consumes the bytes
 * before calling back) keeps memory at a few fixed buffers; a generic stream
 * may keep references to what it is given (a PassThrough hands the same
 * Buffer on), so it gets fresh chunks and the writer relies on `drain`.
 */
import { write as fsWrite } from "node:fs";
import { KilnError } from "../../core/errors.js";

export interface CpioSink {
  /** Take `chunk`; call `release` once its memory may be reused. Resolves when more may be written. */
  write(chunk: Buffer, release: () => void): Promise<void>;
  /** Wait until every write completed (ending the stream if asked); throw the first failure. */
  finish(): Promise<void>;
  /** Wait for writes in flight without finishing (after a failure, before closing the file). */
  settle(): Promise<void>;
  /** Whether released chunks may be reused. */
  readonly recycles: boolean;
}

function writeFailed(e: unknown): KilnError {
  return new KilnError(
    "CPIO_WRITE_FAILED",
    `cannot write the CPIO archive: ${(e as Error)?.message ?? String(e)}`,
    {
      cause: e,
    },
  );
}

function writeAll(fd: number, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (off: number) =>
      fsWrite(fd, chunk, off, chunk.length - off, null, (err, n) => {
        if (err) reject(err);
        else if (off + n < chunk.length) step(off + n);
        else resolve();
      });
    step(0);
  });
}

/**
 * Write to a file descriptor, chunks reused. Writes run one after another on
 * the thread pool while the writer fills the next chunk (libuv would run
 * concurrent requests on one fd out of order).
 */
export function fdSink(fd: number): CpioSink {
  let failure: unknown;
  let tail: Promise<void> = Promise.resolve();
  return {
    recycles: true,
    write(chunk, release) {
      if (failure !== undefined) return Promise.reject(writeFailed(failure));
      tail = tail.then(async () => {
        if (failure === undefined) {
          try {
            await writeAll(fd, chunk);
          } catch (e) {
            failure = e;
          }
        }
        release();
      });
      return Promise.resolve();
    },
    async settle() {
      await tail;
    },
    async finish() {
      await tail;
      if (failure !== undefined) throw writeFailed(failure);
    },
  };
}

/**
 * Write to a Node stream, honouring back-pressure. `recycles` is for streams
 * known to be done with a chunk when they call back (zlib); `end` ends the
 * stream in `finish` and waits for it to flush.
 */
export function streamSink(
  out: NodeJS.WritableStream,
  opts: { recycles?: boolean; end?: boolean } = {},
): CpioSink {
  let failure: unknown;
  out.on("error", (e) => {
    failure ??= e;
  });
  return {
    recycles: opts.recycles ?? false,
    settle: async () => {},
    write(chunk, release) {
      if (failure !== undefined) return Promise.reject(writeFailed(failure));
      const ok = out.write(chunk, (err) => {
        if (err) failure ??= err;
        release();
      });
      if (ok) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const done = () => {
          out.off("drain", done);
          out.off("error", done);
          failure === undefined ? resolve() : reject(writeFailed(failure));
        };
        out.on("drain", done);
        out.on("error", done);
      });
    },
    async finish() {
      if (failure === undefined && opts.end) {
        await new Promise<void>((resolve) => {
          out.once("error", () => resolve());
          out.end(() => resolve());
        });
      }
      if (failure !== undefined) throw writeFailed(failure);
    },
  };
}
