/**
 * Pure helpers over OCI image indexes and manifests (and their Docker
 * schema-2 twins), shared by OCI layout directories, `docker save` archives
 * and registry pulls. Media types from the OCI image spec (media-types.md)
 * and Docker's "Image Manifest V2, Schema 2".
 */
import { KilnError } from "../../core/errors.js";
import { type Descriptor, formatPlatform, type Platform } from "../../core/registry/oci.js";

export {
  type Descriptor,
  formatPlatform,
  isIndex,
  MANIFEST_ACCEPT,
  MEDIA,
  type Platform,
  splitDigest,
} from "../../core/registry/oci.js";

/** Parse `OS/ARCH[/VARIANT]`; throws `ROOTFS_BAD_PLATFORM`. */
export function parsePlatform(text: string): Platform {
  const parts = text.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === "")) {
    throw new KilnError("ROOTFS_BAD_PLATFORM", `platform "${text}" is not OS/ARCH[/VARIANT]`, {
      hint: "for example: linux/amd64, linux/arm64",
    });
  }
  return { os: parts[0]!, architecture: parts[1]!, ...(parts[2] ? { variant: parts[2] } : {}) };
}

export interface ImageManifest {
  config?: Descriptor;
  layers: Descriptor[];
}

/**
 * Choose the manifest for `want` from an index. The variant must match when
 * asked for; otherwise the first entry with matching OS and architecture wins
 * (as containerd's default platform matcher does). Attestation manifests
 * (`unknown/unknown`) never match.
 */
export function selectManifest(manifests: Descriptor[], want: Platform, where: string): Descriptor {
  const match = manifests.find(
    (m) =>
      m.platform?.os === want.os &&
      m.platform.architecture === want.architecture &&
      (want.variant === undefined || m.platform.variant === want.variant),
  );
  if (match) return match;
  // Single-entry indexes without a platform (e.g. `skopeo copy` into an OCI layout) are taken as is.
  if (manifests.length === 1 && !manifests[0]!.platform) return manifests[0]!;
  const have = manifests
    .map((m) => (m.platform ? formatPlatform(m.platform) : "(no platform)"))
    .filter((p) => p !== "unknown/unknown");
  throw new KilnError("ROOTFS_NO_PLATFORM", `${where} has no image for ${formatPlatform(want)}`, {
    hint: `available: ${have.join(", ") || "none"}; choose one with --platform`,
  });
}

/** Parse an image manifest, checking it has layers. */
export function parseManifest(doc: unknown, where: string): ImageManifest {
  const layers = (doc as { layers?: unknown }).layers;
  if (!Array.isArray(layers) || layers.some((l) => typeof (l as Descriptor)?.digest !== "string")) {
    throw new KilnError("ROOTFS_BAD_IMAGE", `${where} is not an image manifest (no "layers" list)`);
  }
  return { config: (doc as { config?: Descriptor }).config, layers: layers as Descriptor[] };
}
