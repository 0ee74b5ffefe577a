/**
 * Reading packages: choose the manifest for a platform and architecture,
 * find the kernel, initrd and root filesystem layers — by KraftKit's layer
 * annotations (`org.unikraft.kernel.image`, `org.unikraft.kernel.initrd`),
 * by the newer Unikraft media types (`application/vnd.unikraft.kernel.v1`,
 * `…kernel.dbg.v1`, `…initrd.v1`, `…rom.v1`: the blob is the file), or by
 * KraftKit's well-known paths inside an unannotated tar layer (what `umoci`
 * or `skopeo` give for a layout built by hand) — and unpack them once per
 * manifest into the cache.
 */
import { createReadStream } from "node:fs";
import { copyFile, mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { createGunzip } from "node:zlib";
import { KilnError } from "../core/errors.js";
import { produceAtomically } from "../core/fs.js";
import { type Descriptor, formatPlatform, isIndex, splitDigest } from "../core/registry/oci.js";
import { ANNOTATION, PKG_MEDIA, PKG_PATHS } from "./media.js";
import type { PackageStore } from "./store.js";
import { extractTarFile, listTarFiles, normalizeTarPath } from "./tar.js";

/** A package's image manifest and config, as stored. */
export interface PackageManifest {
  descriptor: Descriptor;
  manifest: {
    mediaType?: string;
    config?: Descriptor;
    layers: Descriptor[];
    annotations?: Record<string, string>;
  };
  config: {
    architecture?: string;
    os?: string;
    "os.version"?: string;
    "os.features"?: string[];
    config?: { Cmd?: string[]; Env?: string[]; Labels?: Record<string, string>; Entrypoint?: string[] };
  };
}

/** What a run needs from a package, as files. */
export interface UnpackedPackage {
  ref: string;
  manifestDigest: string;
  platform: string;
  architecture: string;
  guest: "unikraft" | "linux" | undefined;
  kernel: string;
  initrd?: string;
  rootfs?: string;
  cmd: string[];
  env: string[];
  kernelArgs: string[];
}

type Role = "kernel" | "kernelDbg" | "initrd" | "rootfs";

const RAW_ROLE: Record<string, Role> = {
  [PKG_MEDIA.unikraftKernel]: "kernel",
  [PKG_MEDIA.unikraftKernelDbg]: "kernelDbg",
  [PKG_MEDIA.unikraftInitrd]: "initrd",
  // A ROM is read-only data for the guest: Kiln attaches it as its disk.
  [PKG_MEDIA.unikraftRom]: "rootfs",
};

const PATH_ROLE: Record<string, Role> = {
  [normalizeTarPath(PKG_PATHS.kernel)]: "kernel",
  [normalizeTarPath(PKG_PATHS.kernelDbg)]: "kernelDbg",
  [normalizeTarPath(PKG_PATHS.initrd)]: "initrd",
  [normalizeTarPath(PKG_PATHS.rootfs)]: "rootfs",
};

/** A layer's role from its annotations or media type alone (pure); undefined when the tar must be looked into. */
export function layerRole(layer: Descriptor): { role: Role; raw: boolean } | undefined {
  const raw = layer.mediaType ? RAW_ROLE[layer.mediaType] : undefined;
  if (raw) return { role: raw, raw: true };
  const a = layer.annotations ?? {};
  if (a[ANNOTATION.kernelImage]) return { role: "kernel", raw: false };
  if (a[ANNOTATION.kernelInitrd]) return { role: "initrd", raw: false };
  if (a[ANNOTATION.kilnRootfs]) return { role: "rootfs", raw: false };
  return undefined;
}

/**
 * The manifest for `platform`/`architecture` from an index's entries (pure).
 * Without a platform the only one, or the first for the architecture, is
 * taken; throws `PKG_NO_PLATFORM` listing what there is.
 */
export function selectPackageManifest(
  manifests: Descriptor[],
  want: { platform?: string; architecture: string },
  where: string,
): Descriptor {
  const fits = manifests.filter(
    (m) =>
      (m.platform?.architecture === want.architecture || !m.platform) &&
      (want.platform === undefined || m.platform?.os === want.platform || !m.platform),
  );
  if (fits.length > 0) return fits[0]!;
  const have = manifests.map((m) => (m.platform ? formatPlatform(m.platform) : "(no platform)"));
  throw new KilnError(
    "PKG_NO_PLATFORM",
    `${where} has no package for ${want.platform ?? "any platform"}/${want.architecture}`,
    {
      hint: `available (platform/architecture): ${have.join(", ") || "none"}; choose with --plat and --arch`,
    },
  );
}

/** Resolve a stored reference to its manifest for a platform and architecture. */
export async function readPackageManifest(
  store: PackageStore,
  ref: string,
  want: { platform?: string; architecture: string },
): Promise<PackageManifest> {
  const top = await store.resolve(ref);
  if (!top)
    throw new KilnError("PKG_NOT_FOUND", `no package ${ref} in ${store.root}`, {
      hint: "kiln pkg ls lists them; kiln pkg pull REF fetches one",
    });
  let desc = top;
  let doc = await store.readJson<unknown>(desc.digest);
  for (let depth = 0; isIndex(doc); depth++) {
    if (depth > 2) throw new KilnError("PKG_BAD_IMAGE", `${ref}: indexes nested too deeply`);
    desc = selectPackageManifest(doc.manifests, want, ref);
    doc = await store.readJson<unknown>(desc.digest);
  }
  const manifest = doc as PackageManifest["manifest"];
  if (!Array.isArray(manifest.layers)) {
    throw new KilnError(
      "PKG_WRONG_KIND",
      `${ref}: ${desc.digest} is a ${manifest.mediaType ?? "document"} with no layers, not an image manifest`,
    );
  }
  const config = manifest.config
    ? await store.readJson<PackageManifest["config"]>(manifest.config.digest)
    : {};
  return { descriptor: desc, manifest, config };
}

/** Unpack a package's kernel, initrd and root filesystem into `cacheDir` (once per manifest). */
export async function unpackPackage(
  store: PackageStore,
  ref: string,
  want: { platform?: string; architecture: string },
  cacheDir: string,
): Promise<UnpackedPackage> {
  const pm = await readPackageManifest(store, ref, want);
  const dir = join(cacheDir, "pkg", splitDigest(pm.descriptor.digest).hex);
  const files: Partial<Record<Role, string>> = {};
  const present = await stat(join(dir, "kernel")).then(
    () => true,
    () => false,
  );
  if (!present) {
    await mkdir(join(cacheDir, "pkg"), { recursive: true });
    await produceAtomically(dir, async (tmp) => {
      await mkdir(tmp);
      await unpackLayers(store, pm.manifest.layers, tmp, ref);
    });
  }
  for (const role of ["kernel", "initrd", "rootfs"] as const) {
    const p = join(dir, role);
    if (
      await stat(p).then(
        () => true,
        () => false,
      )
    )
      files[role] = p;
  }
  const a = pm.manifest.annotations ?? {};
  const args = a[ANNOTATION.kilnKernelArgs];
  const guest = a[ANNOTATION.kilnGuest] ?? pm.config.config?.Labels?.[ANNOTATION.uruncType];
  return {
    ref,
    manifestDigest: pm.descriptor.digest,
    platform: pm.config.os ?? pm.descriptor.platform?.os ?? "qemu",
    architecture: pm.config.architecture ?? want.architecture,
    guest: guest === "linux" ? "linux" : guest === "unikraft" ? "unikraft" : undefined,
    kernel: files.kernel!,
    ...(files.initrd ? { initrd: files.initrd } : {}),
    ...(files.rootfs ? { rootfs: files.rootfs } : {}),
    cmd: [...(pm.config.config?.Entrypoint ?? []), ...(pm.config.config?.Cmd ?? [])],
    env: pm.config.config?.Env ?? [],
    kernelArgs: args ? (JSON.parse(args) as string[]) : [],
  };
}

async function unpackLayers(
  store: PackageStore,
  layers: Descriptor[],
  dir: string,
  ref: string,
): Promise<void> {
  let kernel = false;
  for (const layer of layers) {
    const known = layerRole(layer);
    if (known?.raw) {
      if (known.role === "kernelDbg") continue;
      await copyFile(store.blobPath(layer.digest), join(dir, known.role));
      kernel ||= known.role === "kernel";
      continue;
    }
    // Tar layers, plain or gzip-compressed (umoci and docker compress theirs); other kinds are not files.
    if (layer.mediaType !== undefined && !/tar(\+gzip)?$/.test(layer.mediaType)) continue;
    const open = () => {
      const raw = createReadStream(store.blobPath(layer.digest));
      return layer.mediaType?.endsWith("+gzip") ? raw.pipe(createGunzip()) : raw;
    };
    // An unannotated tar layer may still hold a file at a well-known path (layouts made by other tools).
    const names = known
      ? [known.role]
      : (await listTarFiles(open())).map((n) => PATH_ROLE[n]).filter((r): r is Role => r !== undefined);
    for (const role of names) {
      if (role === "kernelDbg") continue;
      const path = Object.entries(PATH_ROLE).find(([, r]) => r === role)![0];
      if (await extractTarFile(open(), path, join(dir, role))) kernel ||= role === "kernel";
    }
  }
  if (!kernel) {
    throw new KilnError(
      "PKG_WRONG_KIND",
      `${ref} is not a kernel package: no layer holds ${PKG_PATHS.kernel} or is typed ${PKG_MEDIA.unikraftKernel}`,
      {
        hint: "a container image (a root filesystem) goes to kiln rootfs build docker://REF",
      },
    );
  }
}
