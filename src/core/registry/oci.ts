/**
 * OCI basics shared by every domain that reads or writes images (root
 * filesystems in `image/`, packages in `pkg/`): media types from the OCI
 * image spec (media-types.md) and Docker's "Image Manifest V2, Schema 2",
 * descriptors (descriptor.md), platforms and digests. Pure.
 */
import { createHash } from "node:crypto";
import { KilnError } from "../errors.js";

export const MEDIA = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
} as const;

/** The Accept header for a manifest GET: every kind Kiln understands. */
export const MANIFEST_ACCEPT = [
  MEDIA.ociIndex,
  MEDIA.ociManifest,
  MEDIA.dockerList,
  MEDIA.dockerManifest,
].join(", ");

/** A platform (OCI image-index.md): `os`, `architecture`, and the optional rest. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  "os.version"?: string;
  "os.features"?: string[];
}

/** `OS/ARCH[/VARIANT]`. */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

/** A content descriptor (OCI descriptor.md). */
export interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

/** True when a parsed JSON document is an index / manifest list (has `manifests`). */
export function isIndex(doc: unknown): doc is { manifests: Descriptor[]; mediaType?: string } {
  return typeof doc === "object" && doc !== null && Array.isArray((doc as { manifests?: unknown }).manifests);
}

/** Split `sha256:HEX` checking its form; throws `BAD_DIGEST`. */
export function splitDigest(digest: string): { algorithm: string; hex: string } {
  const m = /^(sha256|sha512):([a-f0-9]{64,128})$/.exec(digest);
  if (!m) throw new KilnError("BAD_DIGEST", `digest "${digest}" is not sha256:<64 hex digits>`);
  return { algorithm: m[1]!, hex: m[2]! };
}

/** `sha256:<hex>` of some bytes. */
export function sha256Digest(data: string | Uint8Array): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}
