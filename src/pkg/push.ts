/**
 * `kiln pkg push`: a stored package to a registry (distribution-spec
 * spec.md "Pushing"): each blob is skipped when the registry has it (`HEAD`),
 * mounted from another repository of the same registry when a stored package
 * from there holds it (`POST …/blobs/uploads/?mount=&from=`), else uploaded —
 * in one `PUT` (monolithic), or in `PATCH` chunks with `Content-Range` then
 * a closing `PUT ?digest=` (chunked) — and manifests go last, children
 * before the index, so the registry never holds a tag whose content is
 * missing. A push killed midway is simply run again: finished blobs are
 * skipped, unfinished upload sessions are abandoned.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { KilnError } from "../core/errors.js";
import { RegistryClient } from "../core/registry/client.js";
import { type Descriptor, isIndex } from "../core/registry/oci.js";
import { formatImageReference, type ImageReference } from "../core/registry/reference.js";
import { formatBytes } from "../core/units.js";
import { canonicalPackageRef, parsePackageReference } from "./platform.js";
import type { TransferOptions } from "./pull.js";
import type { PackageStore } from "./store.js";

export interface PushRequest extends TransferOptions {
  /** Push under another reference than the stored one. */
  to?: string;
  /** Upload blobs larger than this in chunks of this size (default: 64 MiB, monolithic below). */
  chunkSizeBytes?: number;
}

export interface PushResult {
  ref: string;
  digest: string;
  uploadedBytes: number;
  /** Blobs the registry already had. */
  skipped: number;
  /** Blobs mounted from another repository. */
  mounted: number;
}

const DEFAULT_CHUNK = 64 * 1024 * 1024;

/** Push the stored `refText` (to `req.to` when given). */
export async function pushPackage(
  store: PackageStore,
  refText: string,
  req: PushRequest = {},
): Promise<PushResult> {
  const source = canonicalPackageRef(refText);
  const top = await store.resolve(source);
  if (!top) {
    throw new KilnError("PKG_NOT_FOUND", `no package ${source} in ${store.root}`, {
      hint: "kiln pkg ls lists them; package one with kiln pkg --name REF",
    });
  }
  const dest = parsePackageReference(req.to ?? refText);
  const client = new RegistryClient(dest.registry, req);
  const progress = req.reporter?.progress("push");
  const result: PushResult = {
    ref: formatImageReference(dest),
    digest: top.digest,
    uploadedBytes: 0,
    skipped: 0,
    mounted: 0,
  };
  const manifests: Descriptor[] = [];
  const blobs: Descriptor[] = [];
  const topDoc = await store.readJson<unknown>(top.digest);
  const children = isIndex(topDoc) ? topDoc.manifests.filter((m) => m) : [];
  for (const m of isIndex(topDoc) ? children : [top]) {
    if (!(await store.hasBlob(m.digest))) continue; // a platform not pulled: the index still names it
    manifests.push(m);
    const doc = await store.readJson<{ config?: Descriptor; layers?: Descriptor[] }>(m.digest);
    blobs.push(...(doc.config ? [doc.config] : []), ...(doc.layers ?? []));
  }
  const mountFrom = await mountSources(store, dest);
  const seen = new Set<string>();
  for (const b of blobs) {
    if (seen.has(b.digest)) continue;
    seen.add(b.digest);
    const outcome = await pushBlob(
      store,
      client,
      dest,
      b,
      mountFrom,
      req.chunkSizeBytes ?? DEFAULT_CHUNK,
      (n) => progress?.update(`${result.ref}: ${formatBytes(result.uploadedBytes + n)} uploaded`),
    );
    if (outcome === "skipped") result.skipped++;
    else if (outcome === "mounted") result.mounted++;
    else result.uploadedBytes += outcome;
  }
  for (const m of isIndex(topDoc) ? manifests : []) await putManifest(store, client, dest, m, m.digest);
  await putManifest(store, client, dest, top, dest.reference);
  progress?.done(
    `${result.ref}: ${formatBytes(result.uploadedBytes)} uploaded, ${result.skipped} blob(s) already there, ${result.mounted} mounted`,
  );
  return result;
}

/** Repositories on the destination registry that stored packages came from, with the digests they hold. */
async function mountSources(store: PackageStore, dest: ImageReference): Promise<Map<string, string>> {
  const from = new Map<string, string>();
  for (const r of await store.refs()) {
    let p: ImageReference;
    try {
      p = parsePackageReference(r.ref);
    } catch {
      continue;
    }
    if (p.registry !== dest.registry || p.repository === dest.repository) continue;
    for (const d of await store.closure(r.descriptor))
      if (!from.has(d.digest)) from.set(d.digest, p.repository);
  }
  return from;
}

async function putManifest(
  store: PackageStore,
  client: RegistryClient,
  dest: ImageReference,
  d: Descriptor,
  reference: string,
) {
  const body = await store.readBlob(d.digest);
  const res = await client.request(dest.repository, `manifests/${reference}`, {
    method: "PUT",
    actions: "pull,push",
    headers: { "content-type": d.mediaType ?? "application/vnd.oci.image.manifest.v1+json" },
    body,
  });
  await res.body?.cancel();
}

function withDigest(location: string, digest: string): string {
  return `${location}${location.includes("?") ? "&" : "?"}digest=${encodeURIComponent(digest)}`;
}

/** Push one blob; returns how it got there: "skipped", "mounted", or the bytes uploaded. */
async function pushBlob(
  store: PackageStore,
  client: RegistryClient,
  dest: ImageReference,
  blob: Descriptor,
  mountFrom: Map<string, string>,
  chunkBytes: number,
  onBytes: (n: number) => void,
): Promise<"skipped" | "mounted" | number> {
  const repo = dest.repository;
  const head = await client.request(repo, `blobs/${blob.digest}`, {
    method: "HEAD",
    actions: "pull,push",
    allow: [404],
  });
  if (head.status !== 404) return "skipped";
  const path = store.blobPath(blob.digest);
  const size = (await stat(path)).size;
  const fromRepo = mountFrom.get(blob.digest);
  const start = await client.request(
    repo,
    fromRepo
      ? `blobs/uploads/?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(fromRepo)}`
      : "blobs/uploads/",
    {
      method: "POST",
      actions: "pull,push",
      ...(fromRepo ? { extraScopes: [`repository:${fromRepo}:pull`] } : {}),
      headers: { "content-length": "0" },
    },
  );
  await start.body?.cancel();
  if (start.status === 201) return "mounted";
  let location = location_(start, repo);
  if (size > chunkBytes) {
    for (let offset = 0; offset < size; offset += chunkBytes) {
      const end = Math.min(size, offset + chunkBytes) - 1;
      const res = await client.request(repo, location, {
        method: "PATCH",
        actions: "pull,push",
        headers: {
          "content-type": "application/octet-stream",
          "content-range": `${offset}-${end}`,
          "content-length": String(end - offset + 1),
        },
        body: () => createReadStream(path, { start: offset, end }),
      });
      await res.body?.cancel();
      location = location_(res, repo);
      onBytes(end + 1);
    }
    const done = await client.request(repo, withDigest(location, blob.digest), {
      method: "PUT",
      actions: "pull,push",
      headers: { "content-length": "0" },
    });
    await done.body?.cancel();
  } else {
    const res = await client.request(repo, withDigest(location, blob.digest), {
      method: "PUT",
      actions: "pull,push",
      headers: { "content-type": "application/octet-stream", "content-length": String(size) },
      body: () => createReadStream(path),
    });
    await res.body?.cancel();
    onBytes(size);
  }
  return size;
}

function location_(res: Response, repo: string): string {
  const loc = res.headers.get("location");
  if (!loc)
    throw new KilnError(
      "REGISTRY_HTTP",
      `the registry gave no upload Location for ${repo} (HTTP ${res.status})`,
    );
  return loc;
}
