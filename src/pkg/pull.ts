/**
 * `kiln pkg pull`: a package from a registry into the store. Every document
 * and blob is checked against its digest before it enters the store (a
 * tampered blob is refused and nothing of it stays); a blob download cut
 * midway resumes with an HTTP `Range` request from what `ingest/` holds,
 * within the same pull (on a connection reset) or in the next one.
 */
import { KilnError } from "../core/errors.js";
import type { Reporter } from "../core/output.js";
import { RegistryClient, type RegistryClientOptions } from "../core/registry/client.js";
import { type Descriptor, isIndex, MANIFEST_ACCEPT, MEDIA, sha256Digest } from "../core/registry/oci.js";
import { formatImageReference, type ImageReference } from "../core/registry/reference.js";
import { formatBytes } from "../core/units.js";
import { downloadBlob } from "./download.js";
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
    const fetchBlob = async (blob: Descriptor) => {
      if (await store.hasBlob(blob.digest)) return;
      let last = 0;
      const n = await downloadBlob(store, client, ref, blob, (done) => {
        downloaded += done - last;
        last = done;
        progress?.update(`${canonical}: ${formatBytes(downloaded)}`);
      });
      downloaded += n - last;
    };
    // The config first (small; it tells a container image from a package), then the layers
    // at once: several small layers cost one round trip instead of one each.
    if (m.config) await fetchBlob(m.config);
    await refuseContainerImage(store, canonical, child.desc, { ...m, layers });
    await mapLimit(layers, PARALLEL_BLOBS, fetchBlob);
    // The manifest enters the store only once its blobs are there.
    await store.putBytes(child.body, child.desc.mediaType);
    manifests.push(child.desc);
  }
  if (children[0] !== top) await store.putBytes(top.body, top.desc.mediaType);
  await store.setRef(canonical, top.desc);
  progress?.done(`${canonical}: ${manifests.length} manifest(s), ${formatBytes(downloaded)} downloaded`);
  return { ref: canonical, digest: top.desc.digest, manifests, downloadedBytes: downloaded };
}

/** Blobs downloaded at once (docker pulls 3 layers at a time, containerd 3). */
const PARALLEL_BLOBS = 4;

/** Run `fn` over `items` with at most `limit` running at once; rejects with the first failure. */
async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
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
