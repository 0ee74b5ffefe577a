/**
 * `kiln pkg pull`: a package from a registry into the store. Every document
 * and blob is checked against its digest before it enters the store (a
 * tampered blob is refused and nothing of it stays); a blob download cut
 * midway resumes with an HTTP `Range` request from what `ingest/` holds,
 * within the same pull (on a connection reset) or in the next one.
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import lockfile from "proper-lockfile";
import { KilnError } from "../core/errors.js";
import type { Reporter } from "../core/output.js";
import { RegistryClient, type RegistryClientOptions } from "../core/registry/client.js";
import { type Descriptor, isIndex, MANIFEST_ACCEPT, MEDIA, sha256Digest } from "../core/registry/oci.js";
import { formatImageReference, type ImageReference } from "../core/registry/reference.js";
import { formatBytes } from "../core/units.js";
import { ANNOTATION, PKG_MEDIA } from "./media.js";
import { parsePackageReference } from "./platform.js";
import type { PackageStore } from "./store.js";

export interface TransferOptions extends Omit<RegistryClientOptions, "credentials"> {
  reporter?: Reporter;
}

export interface PullRequest extends TransferOptions {
  /** Only manifests for this platform (`qemu`, `fc`, `xen`). */
  platform?: string;
  /** Only manifests for this architecture (`x86_64`, `arm64`); all when absent. */
  architecture?: string;
}

export interface PullResult {
  ref: string;
  digest: string;
  /** Manifests fetched (one per platform/architecture kept). */
  manifests: Descriptor[];
  /** Bytes downloaded (blobs already in the store are not counted). */
  downloadedBytes: number;
}

const KNOWN_KINDS = new Set<string>([
  MEDIA.ociIndex,
  MEDIA.ociManifest,
  MEDIA.dockerList,
  MEDIA.dockerManifest,
]);

/** Fetch a document (index or manifest), verifying its digest when it is asked for by digest. */
async function fetchManifest(
  client: RegistryClient,
  ref: ImageReference,
  reference: string,
): Promise<{ desc: Descriptor; body: Buffer; doc: unknown }> {
  const res = await client.request(ref.repository, `manifests/${reference}`, { accept: MANIFEST_ACCEPT });
  const body = Buffer.from(await res.arrayBuffer());
  const digest = sha256Digest(body);
  if (reference.startsWith("sha256:") && reference !== digest) {
    throw new KilnError("PKG_DIGEST_MISMATCH", `manifest ${reference} downloaded with digest ${digest}`, {
      hint: "the registry or a proxy served different content; nothing was stored",
    });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString("utf8"));
  } catch {
    throw new KilnError("PKG_WRONG_KIND", `${formatImageReference(ref)}: the manifest is not JSON`);
  }
  const mediaType =
    (doc as { mediaType?: string }).mediaType ?? res.headers.get("content-type")?.split(";")[0] ?? "";
  if (!KNOWN_KINDS.has(mediaType)) {
    throw new KilnError(
      "PKG_WRONG_KIND",
      `${formatImageReference(ref)}: the registry answered a manifest of kind "${mediaType || "unknown"}", not an OCI index or image manifest`,
      { hint: "Kiln reads OCI image indexes and manifests (and Docker schema 2)" },
    );
  }
  return { desc: { mediaType, digest, size: body.length }, body, doc };
}

/** Pull `refText` into `store`; returns the stored reference. */
export async function pullPackage(
  store: PackageStore,
  refText: string,
  req: PullRequest = {},
): Promise<PullResult> {
  const ref = parsePackageReference(refText);
  const canonical = formatImageReference(ref);
  const client = new RegistryClient(ref.registry, req);
  const top = await fetchManifest(client, ref, ref.reference);
  const progress = req.reporter?.progress("pull");
  let downloaded = 0;
  const manifests: Descriptor[] = [];
  const wanted: Descriptor[] = [];
  if (isIndex(top.doc)) {
    for (const m of top.doc.manifests) {
      if (req.architecture !== undefined && m.platform && m.platform.architecture !== req.architecture)
        continue;
      if (req.platform !== undefined && m.platform && m.platform.os !== req.platform) continue;
      wanted.push(m);
    }
    if (wanted.length === 0) {
      const have = top.doc.manifests.map(
        (m) => `${m.platform?.os ?? "?"}/${m.platform?.architecture ?? "?"}`,
      );
      throw new KilnError(
        "PKG_NO_PLATFORM",
        `${canonical} has no package for ${req.platform ?? "any platform"}/${req.architecture ?? "any architecture"}`,
        { hint: `available (platform/architecture): ${have.join(", ") || "none"}` },
      );
    }
  }
  const children = isIndex(top.doc)
    ? await Promise.all(wanted.map((m) => fetchManifest(client, ref, m.digest)))
    : [top];
  for (const child of children) {
    const m = child.doc as {
      config?: Descriptor;
      layers?: Descriptor[];
      annotations?: Record<string, string>;
    };
    const layers = m.layers;
    if (!Array.isArray(layers)) {
      throw new KilnError(
        "PKG_WRONG_KIND",
        `${canonical}: ${child.desc.digest} is not an image manifest (no "layers")`,
      );
    }
    for (const blob of [...(m.config ? [m.config] : []), ...layers]) {
      if (blob === layers[0]) await refuseContainerImage(store, canonical, child.desc, { ...m, layers });
      if (await store.hasBlob(blob.digest)) continue;
      downloaded += await downloadBlob(store, client, ref, blob, (done) => {
        progress?.update(`${canonical}: ${formatBytes(downloaded + done)}`);
      });
    }
    // The manifest enters the store only once its blobs are there.
    await store.putBytes(child.body, child.desc.mediaType);
    manifests.push(child.desc);
  }
  if (children[0] !== top) await store.putBytes(top.body, top.desc.mediaType);
  await store.setRef(canonical, top.desc);
  progress?.done(`${canonical}: ${manifests.length} manifest(s), ${formatBytes(downloaded)} downloaded`);
  return { ref: canonical, digest: top.desc.digest, manifests, downloadedBytes: downloaded };
}

/** Operating systems of container images (OCI image-spec config `os`); packages carry a VMM platform. */
const CONTAINER_OS = new Set(["linux", "windows", "freebsd", "darwin"]);

/**
 * Refuse, before its layers are downloaded, an image that is a container
 * image rather than a kernel package: config `os` a container OS (packages
 * say `qemu`, `fc`, `xen`), no layer annotated or typed as a kernel, and no
 * urunc annotations (urunc's own images say `linux` so containerd picks them).
 */
async function refuseContainerImage(
  store: PackageStore,
  ref: string,
  desc: Descriptor,
  m: { config?: Descriptor; layers: Descriptor[]; annotations?: Record<string, string> },
): Promise<void> {
  if (!m.config || !(await store.hasBlob(m.config.digest))) return;
  const config = await store
    .readJson<{ os?: string; config?: { Labels?: Record<string, string> } }>(m.config.digest)
    .catch(() => undefined);
  if (!config?.os || !CONTAINER_OS.has(config.os)) return;
  const kernelLayer = m.layers.some(
    (l) => l.annotations?.[ANNOTATION.kernelImage] !== undefined || l.mediaType === PKG_MEDIA.unikraftKernel,
  );
  const urunc = m.annotations?.[ANNOTATION.uruncBinary] ?? config.config?.Labels?.[ANNOTATION.uruncBinary];
  if (kernelLayer || urunc !== undefined) return;
  throw new KilnError(
    "PKG_WRONG_KIND",
    `${ref}: ${desc.digest} is a container image (os "${config.os}", no kernel layer), not a unikernel or microVM package; nothing was downloaded beyond its config`,
    {
      hint: `a container image is a root filesystem: kiln rootfs build docker://${ref} -o rootfs.ext4, then kiln run KERNEL --rootfs rootfs.ext4`,
    },
  );
}

const RESUMABLE = new Set([
  "ECONNRESET",
  "EPIPE",
  "UND_ERR_SOCKET",
  "ETIMEDOUT",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

function streamErrCode(e: unknown): string {
  const c = e as { code?: string; cause?: { code?: string } };
  return c.cause?.code ?? c.code ?? "";
}

/**
 * Download one blob into `ingest/<hex>.partial`, resuming from its current
 * length with `Range`, verify it and rename it into the blobs. Returns the
 * bytes downloaded by this call.
 */
async function downloadBlob(
  store: PackageStore,
  client: RegistryClient,
  ref: ImageReference,
  blob: Descriptor,
  onBytes: (n: number) => void,
): Promise<number> {
  await store.init();
  const partial = store.partialPath(blob.digest);
  await mkdir(dirname(partial), { recursive: true });
  // One downloader per blob across processes: the other waits, then finds the blob stored.
  const release = await lockfile.lock(partial, {
    realpath: false,
    lockfilePath: `${partial}.lock`,
    // A downloader killed midway leaves its lock: taken over once 5 s old (refreshed every 2.5 s while alive).
    stale: 5_000,
    retries: { retries: 600, factor: 1, minTimeout: 200, maxTimeout: 200 },
  });
  let got = 0;
  try {
    if (await store.hasBlob(blob.digest)) return 0;
    // A download in one piece is hashed as it arrives; a resumed one is read back once to hash it.
    const inline = createHash("sha256");
    let hashedInline = false;
    for (let attempt = 0; ; attempt++) {
      const have = (await stat(partial).catch(() => undefined))?.size ?? 0;
      try {
        const r = await fetchInto(
          client,
          ref,
          blob,
          partial,
          have,
          (n) => onBytes(got + n),
          attempt === 0 && have === 0 ? inline : undefined,
        );
        got += r.bytes;
        hashedInline = r.hashed;
        break;
      } catch (e) {
        if (attempt < 5 && RESUMABLE.has(streamErrCode(e))) continue;
        throw e;
      }
    }
    let digest: string;
    if (hashedInline) digest = `sha256:${inline.digest("hex")}`;
    else {
      const hash = createHash("sha256");
      await pipeline(createReadStream(partial), hash);
      digest = `sha256:${hash.digest("hex")}`;
    }
    if (digest !== blob.digest) {
      await rm(partial, { force: true });
      throw new KilnError("PKG_DIGEST_MISMATCH", `blob ${blob.digest} downloaded with digest ${digest}`, {
        hint: "the registry or a proxy served different content; nothing of it was stored",
      });
    }
    await rename(partial, store.blobPath(blob.digest));
    return got;
  } finally {
    await release();
  }
}

/** One GET of a blob appended to `partial` from byte `from`; returns the bytes written. */
async function fetchInto(
  client: RegistryClient,
  ref: ImageReference,
  blob: Descriptor,
  partial: string,
  from: number,
  onBytes: (n: number) => void,
  hash?: Hash,
): Promise<{ bytes: number; hashed: boolean }> {
  const headers: Record<string, string> = from > 0 ? { range: `bytes=${from}-` } : {};
  const res = await client.request(ref.repository, `blobs/${blob.digest}`, { headers, allow: [416] });
  if (res.status === 416) {
    // What we hold is already the whole blob (or more): verification decides.
    await res.body?.cancel();
    return { bytes: 0, hashed: false };
  }
  const append = from > 0 && res.status === 206;
  let n = 0;
  const body = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>);
  const whole = hash !== undefined && res.status === 200;
  body.on("data", (c: Buffer) => {
    n += c.length;
    if (whole) hash.update(c);
    onBytes(n);
  });
  await pipeline(body, createWriteStream(partial, { flags: append ? "a" : "w" }));
  return { bytes: n, hashed: whole };
}
