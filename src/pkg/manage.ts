/**
 * `kiln pkg ls` and `kiln pkg inspect`: what the store holds, as data.
 */
import { KilnError } from "../core/errors.js";
import { type Descriptor, isIndex } from "../core/registry/oci.js";
import { ANNOTATION } from "./media.js";
import { canonicalPackageRef } from "./platform.js";
import type { PackageManifest } from "./read.js";
import type { PackageStore } from "./store.js";

/** One stored package, for `kiln pkg ls`. */
export interface PackageSummary {
  ref: string;
  digest: string;
  /** `platform/architecture` of each manifest held locally. */
  platforms: string[];
  /** Bytes of the layers held locally. */
  sizeBytes: number;
  created?: string;
}

/** The full picture of one package, for `kiln pkg inspect`. */
export interface PackageInspection {
  ref: string;
  index?: { descriptor: Descriptor; document: unknown };
  manifests: (PackageManifest & { present: boolean })[];
}

/** Every package in the store. */
export async function listPackages(store: PackageStore): Promise<PackageSummary[]> {
  const out: PackageSummary[] = [];
  for (const r of await store.refs()) {
    const i = await inspectPackage(store, r.ref);
    const present = i.manifests.filter((m) => m.present);
    out.push({
      ref: r.ref,
      digest: r.descriptor.digest,
      platforms: present.map((m) => `${m.config.os ?? "?"}/${m.config.architecture ?? "?"}`),
      sizeBytes: present.reduce((n, m) => n + m.manifest.layers.reduce((k, l) => k + (l.size ?? 0), 0), 0),
      ...(present[0]?.manifest.annotations?.[ANNOTATION.created]
        ? { created: present[0].manifest.annotations[ANNOTATION.created] }
        : {}),
    });
  }
  return out.sort((a, b) => a.ref.localeCompare(b.ref));
}

/** Index, manifests, configs and annotations of a stored package. */
export async function inspectPackage(store: PackageStore, refText: string): Promise<PackageInspection> {
  const ref = canonicalPackageRef(refText);
  const top = await store.resolve(ref);
  if (!top)
    throw new KilnError("PKG_NOT_FOUND", `no package ${ref} in ${store.root}`, {
      hint: "kiln pkg ls lists them",
    });
  const doc = await store.readJson<unknown>(top.digest);
  const entries = isIndex(doc) ? doc.manifests : [top];
  const manifests: PackageInspection["manifests"] = [];
  for (const d of entries) {
    if (!(await store.hasBlob(d.digest))) {
      manifests.push({
        descriptor: d,
        manifest: { layers: [] },
        config: { ...(d.platform ? { os: d.platform.os, architecture: d.platform.architecture } : {}) },
        present: false,
      });
      continue;
    }
    const manifest = await store.readJson<PackageManifest["manifest"]>(d.digest);
    const config =
      manifest.config && (await store.hasBlob(manifest.config.digest))
        ? await store.readJson<PackageManifest["config"]>(manifest.config.digest)
        : {};
    manifests.push({ descriptor: d, manifest, config, present: true });
  }
  return { ref, ...(isIndex(doc) ? { index: { descriptor: top, document: doc } } : {}), manifests };
}

/** Remove a stored package (blobs no other package needs are collected). */
export async function removePackage(store: PackageStore, refText: string): Promise<void> {
  const ref = canonicalPackageRef(refText);
  if (!(await store.removeRef(ref))) {
    throw new KilnError("PKG_NOT_FOUND", `no package ${ref} in ${store.root}`, {
      hint: "kiln pkg ls lists them",
    });
  }
}
