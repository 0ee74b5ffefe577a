/** File digests, for lock files and archive checksums (`<LIB>_ORIGIN_SHA256` and friends). */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";

/** Hex digest of a file. */
export async function hashFile(
  file: string,
  algorithm: "sha256" | "sha1" | "sha512" | "md5",
): Promise<string> {
  const h = createHash(algorithm);
  await pipeline(createReadStream(file), h);
  return h.digest("hex");
}
