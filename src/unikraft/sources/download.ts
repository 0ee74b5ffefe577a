/**
 * Getting a file from a URL or a path into the cache: HTTP(S) with Node's
 * `fetch`, written atomically, hashed on the way.
 */
import { createWriteStream, existsSync } from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { produceAtomically } from "../../core/fs.js";
import { hashFile } from "./checksum.js";
import { describeNetFailure } from "./net-errors.js";

/** Whether a location is an URL Kiln downloads (rather than a local path). */
export function isUrl(location: string): boolean {
  return /^https?:\/\//i.test(location);
}

/** SHA-256 (hex) of a file. */
export function sha256File(file: string): Promise<string> {
  return hashFile(file, "sha256");
}

/**
 * Copy `from` (an http(s) URL or a local path) to `to` atomically. Resolves
 * to an error message (never throws for an unreachable or missing source) or
 * undefined on success.
 */
export async function downloadTo(
  from: string,
  to: string,
  signal?: AbortSignal,
  responseTimeoutMs = 30_000,
): Promise<string | undefined> {
  await mkdir(dirname(to), { recursive: true });
  try {
    if (!isUrl(from)) {
      if (!existsSync(from)) return "absent";
      await produceAtomically(to, (tmp) => copyFile(from, tmp));
      return undefined;
    }
    // A server that never answers must not stall the walk down the mirror list:
    // give up when no response has arrived after `responseTimeoutMs` (the body may take longer).
    const answered = new AbortController();
    const timer = setTimeout(() => answered.abort(new Error("no response")), responseTimeoutMs);
    let res: Response;
    try {
      res = await fetch(from, {
        signal: signal ? AbortSignal.any([signal, answered.signal]) : answered.signal,
        redirect: "follow",
      });
    } catch (e) {
      if (answered.signal.aborted && !signal?.aborted)
        return describeNetFailure(from, `no response within ${responseTimeoutMs / 1000} s`).what;
      throw e;
    } finally {
      clearTimeout(timer);
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      return describeNetFailure(from, "", res.status).what;
    }
    const body = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream);
    await produceAtomically(to, (tmp) => pipeline(body, createWriteStream(tmp)));
    return undefined;
  } catch (e) {
    if (signal?.aborted) throw e;
    // fetch() says only "fetch failed"; the cause has the code (ENOTFOUND, ECONNREFUSED, CERT_…).
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return describeNetFailure(
      from,
      [cause?.code, cause?.message, (e as Error).message].filter(Boolean).join("\n"),
    ).what;
  }
}
