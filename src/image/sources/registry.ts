/**
 * Pull a root filesystem image over the OCI distribution API through the
 * shared client (`core/registry/client.ts`: authentication, retries, errors):
 * `GET /v2/<name>/manifests/<ref>` with an Accept for indexes and manifests,
 * the platform chosen from an index, and blobs downloaded once into a
 * content-addressed cache (`<cacheDir>/blobs/sha256/<hex>`), each verified
 * against its digest before it is used — so a second build works offline.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { access, mkdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { isKilnError, KilnError } from "../../core/errors.js";
import { tempPathFor, writeFileAtomic } from "../../core/fs.js";
import type { Reporter } from "../../core/output.js";
import { RegistryClient } from "../../core/registry/client.js";
import { type ImageReference, parseImageReference } from "../../core/registry/reference.js";
import { formatBytes } from "../../core/units.js";
import {
  type Descriptor,
  formatPlatform,
  isIndex,
  MANIFEST_ACCEPT,
  type Platform,
  parseManifest,
  selectManifest,
  splitDigest,
} from "./oci-manifest.js";

export {
  type ImageReference,
  parseBearerChallenge,
  parseImageReference,
  registryBaseUrl,
} from "../../core/registry/reference.js";

export interface PullOptions {
  platform: Platform;
  cacheDir: string;
  insecure?: boolean;
  /** The registry for a name without a host (`KILN_REGISTRY`); none by default. */
  defaultRegistry?: string;
  reporter?: Reporter;
  signal?: AbortSignal;
}

export interface PulledImage {
  /** Digest of the platform's manifest. */
  manifestDigest: string;
  /** Layer blobs in order, as cached files. */
  layers: { digest: string; path: string; sizeBytes?: number }[];
}

/** The shared registry client bound to one repository. */
interface RepoClient {
  get(path: string, accept?: string): Promise<Response>;
}

function repoClient(ref: ImageReference, opts: PullOptions): RepoClient {
  const client = new RegistryClient(ref.registry, {
    ...(opts.insecure !== undefined ? { insecure: opts.insecure } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { get: (path, accept) => client.request(ref.repository, path, accept ? { accept } : {}) };
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

/** Pull `ref`'s manifest for the platform and its layers into the cache. */
export async function pullImage(refText: string, opts: PullOptions): Promise<PulledImage> {
  const ref = parseImageReference(refText, opts.defaultRegistry);
  const client = repoClient(ref, opts);
  const record = join(
    opts.cacheDir,
    "refs",
    `${encodeURIComponent(`${ref.registry}/${ref.repository}:${ref.reference}@${formatPlatform(opts.platform)}`)}.json`,
  );
  let resolved: { digest: string; doc: unknown };
  try {
    const online = await resolveManifest(client, ref.reference, refText, opts.platform);
    resolved = online;
    await writeFileAtomic(
      join(opts.cacheDir, "blobs", "sha256", splitDigest(online.digest).hex),
      online.body,
    );
    await writeFileAtomic(
      record,
      JSON.stringify({ digest: resolved.digest, savedAt: new Date().toISOString() }),
    );
  } catch (e) {
    // Offline: reuse the manifest this reference resolved to last time (its blobs are cached by digest).
    if (!isKilnError(e, "REGISTRY_UNREACHABLE")) throw e;
    const saved = await readFile(record, "utf8").then(
      (t) => JSON.parse(t) as { digest: string; savedAt: string },
      () => undefined,
    );
    if (!saved) throw e;
    const text = await readFile(
      join(opts.cacheDir, "blobs", "sha256", splitDigest(saved.digest).hex),
      "utf8",
    ).catch(() => undefined);
    if (text === undefined) throw e;
    opts.reporter?.warn(
      `${e.message}; using the cached manifest ${saved.digest} that ${refText} resolved to on ${saved.savedAt}`,
    );
    resolved = { digest: saved.digest, doc: JSON.parse(text) };
  }
  const { digest, doc } = resolved;
  const manifest = parseManifest(doc, refText);
  const blobDir = join(opts.cacheDir, "blobs", "sha256");
  await mkdir(blobDir, { recursive: true });
  const total = manifest.layers.reduce((n, l) => n + (l.size ?? 0), 0);
  const progress = opts.reporter?.progress("pull");
  let doneBytes = 0;
  const layers: PulledImage["layers"] = [];
  for (const layer of manifest.layers) {
    const path = join(blobDir, splitDigest(layer.digest).hex);
    if (!(await exists(path))) {
      await downloadBlob(client, layer, path, (n) => {
        doneBytes += n;
        progress?.update(`${formatBytes(doneBytes)} of ${formatBytes(total)}`);
      });
    } else doneBytes += layer.size ?? 0;
    layers.push({ digest: layer.digest, path, sizeBytes: layer.size });
  }
  progress?.done(`${refText}: ${manifest.layers.length} layer(s), ${formatBytes(total)}`);
  return { manifestDigest: digest, layers };
}

/** Follow a reference through indexes to the platform's image manifest. */
async function resolveManifest(
  client: RepoClient,
  start: string,
  refText: string,
  platform: Platform,
): Promise<{ digest: string; doc: unknown; body: Buffer }> {
  let reference = start;
  for (let depth = 0; ; depth++) {
    const res = await client.get(`manifests/${reference}`, MANIFEST_ACCEPT);
    const body = Buffer.from(await res.arrayBuffer());
    const digest = `sha256:${createHash("sha256").update(body).digest("hex")}`;
    if (reference.startsWith("sha256:") && reference !== digest) {
      throw new KilnError("ROOTFS_DIGEST_MISMATCH", `manifest ${reference} downloaded with digest ${digest}`);
    }
    const doc: unknown = JSON.parse(body.toString("utf8"));
    if (!isIndex(doc)) return { digest, doc, body };
    if (depth > 2) throw new KilnError("ROOTFS_BAD_IMAGE", `${refText}: indexes nested too deeply`);
    reference = selectManifest(doc.manifests, platform, refText).digest;
  }
}

/** Download one blob to `path`, verifying its sha256 before renaming it into the cache. */
async function downloadBlob(client: RepoClient, d: Descriptor, path: string, onBytes: (n: number) => void) {
  const res = await client.get(`blobs/${d.digest}`);
  const tmp = tempPathFor(path);
  const hash = createHash("sha256");
  try {
    const body = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>);
    body.on("data", (c: Buffer) => {
      hash.update(c);
      onBytes(c.length);
    });
    await pipeline(body, createWriteStream(tmp));
    const got = `sha256:${hash.digest("hex")}`;
    if (got !== d.digest) {
      throw new KilnError("ROOTFS_DIGEST_MISMATCH", `blob ${d.digest} downloaded with digest ${got}`, {
        hint: "the registry or a proxy served different content; nothing was cached",
      });
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
