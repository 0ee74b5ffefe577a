/**
 * Packaging: a kernel (Unikraft or Linux) and what travels with it, written
 * into the store as KraftKit lays a package out (see `media.ts` for the
 * sources): an OCI index with one manifest per platform/architecture, each
 * manifest's config giving `os` = platform, `architecture`, `os.version`,
 * `os.features`, `Cmd`, `Env`, `Labels`, and one uncompressed tar layer per
 * file. urunc's annotations ride along, so containerd + urunc run it as is.
 */
import { Readable } from "node:stream";
import { pack } from "tar-stream";
import { KilnError } from "../core/errors.js";
import { type Descriptor, MEDIA, type Platform } from "../core/registry/oci.js";
import {
  ANNOTATION,
  KRAFTKIT_COMPAT_VERSION,
  PKG_MEDIA,
  PKG_PATHS,
  type PkgArch,
  type PkgPlatform,
  URUNC_HYPERVISOR,
} from "./media.js";
import { canonicalPackageRef, normalizePkgArch, normalizePkgPlatform } from "./platform.js";
import type { PackageStore } from "./store.js";
import { singleFileTar } from "./tar.js";

/** What to package. Paths are files; a directory initrd is packed to CPIO by the caller first. */
export interface PackageInput {
  /** Reference to store it under, e.g. `127.0.0.1:5000/apps/hello:1`. */
  name: string;
  kernel: string;
  /** The unstripped kernel (`/unikraft/bin/kernel.dbg`). */
  kernelDbg?: string;
  /** An initrd (CPIO, or an EROFS image as KraftKit v0.7's `rootfs: {format: erofs}` makes). */
  initrd?: string;
  /** A disk image (ext4, EROFS) attached as /dev/vda. */
  rootfs?: string;
  guest: "unikraft" | "linux";
  platform: string;
  architecture: string;
  /** Unikraft version (or the Linux release): config `os.version`, `org.unikraft.kernel.version`. */
  kernelVersion?: string;
  /** `.config` entries, `CONFIG_X=y` (CONFIG_UK_APP/CONFIG_UK_BASE are dropped, as KraftKit does). */
  features?: string[];
  cmd?: string[];
  /** `K=V` strings. */
  env?: string[];
  labels?: Record<string, string>;
  /** Linux: kernel command-line arguments stored with the image. */
  kernelArgs?: string[];
  /** Time recorded in `org.opencontainers.image.created` (default: now). */
  created?: Date;
}

export interface PackageResult {
  ref: string;
  index: Descriptor;
  manifest: Descriptor;
  platform: Platform;
  /** Bytes of the layers. */
  sizeBytes: number;
}

/** The config `os.features` KraftKit writes: `.config` entries minus host-specific ones, sorted, unique. */
export function kconfigFeatures(entries: string[]): string[] {
  const skip = new Set(["CONFIG_UK_APP", "CONFIG_UK_BASE"]);
  return [...new Set(entries.filter((e) => !skip.has(e.split("=")[0]!)))].sort();
}

/** `.config` text → `CONFIG_X=value` entries (unset and comment lines dropped). Pure. */
export function dotConfigEntries(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /^CONFIG_[A-Za-z0-9_]+=/.test(l));
}

/** urunc's annotations for a package (values plain; `urunc.json` holds them base64). Pure. */
export function uruncAnnotations(input: {
  guest: "unikraft" | "linux";
  platform: PkgPlatform;
  cmdline: string;
  initrd: boolean;
  rootfs: boolean;
  kernelVersion?: string;
}): Record<string, string> {
  return {
    [ANNOTATION.uruncType]: input.guest,
    [ANNOTATION.uruncHypervisor]: URUNC_HYPERVISOR[input.platform],
    [ANNOTATION.uruncBinary]: PKG_PATHS.kernel,
    [ANNOTATION.uruncCmdline]: input.cmdline,
    ...(input.kernelVersion ? { [ANNOTATION.uruncVersion]: input.kernelVersion } : {}),
    ...(input.initrd ? { [ANNOTATION.uruncInitrd]: PKG_PATHS.initrd } : {}),
    ...(input.rootfs
      ? { [ANNOTATION.uruncBlock]: PKG_PATHS.rootfs, [ANNOTATION.uruncBlkMntPoint]: "/" }
      : {}),
  };
}

/** Shell-style join for the urunc command line (arguments with spaces are quoted). */
function joinCmd(args: string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(" ");
}

async function tarLayer(store: PackageStore, src: string, dst: string, annotations: Record<string, string>) {
  const d = await store.putStream(await singleFileTar(src, dst));
  return { mediaType: PKG_MEDIA.layerTar, digest: d.digest, size: d.size, annotations };
}

/** Package `input` into `store` under its reference (other platforms under it are kept); returns the new index. */
export async function packageKernel(store: PackageStore, input: PackageInput): Promise<PackageResult> {
  const ref = canonicalPackageRef(input.name);
  const platform = normalizePkgPlatform(input.platform);
  const architecture: PkgArch = normalizePkgArch(input.architecture);
  if (input.guest === "linux" && input.rootfs === undefined && input.initrd === undefined && !input.cmd) {
    // Fine: a Linux kernel alone is a valid package (its root comes at run time with --rootfs).
  }
  const created = (input.created ?? new Date()).toISOString().replace(/\.\d{3}Z$/, "Z");
  const layers: Descriptor[] = [
    await tarLayer(store, input.kernel, PKG_PATHS.kernel, { [ANNOTATION.kernelImage]: PKG_PATHS.kernel }),
  ];
  if (input.kernelDbg) layers.push(await tarLayer(store, input.kernelDbg, PKG_PATHS.kernelDbg, {}));
  if (input.initrd)
    layers.push(
      await tarLayer(store, input.initrd, PKG_PATHS.initrd, { [ANNOTATION.kernelInitrd]: PKG_PATHS.initrd }),
    );
  if (input.rootfs)
    layers.push(
      await tarLayer(store, input.rootfs, PKG_PATHS.rootfs, { [ANNOTATION.kilnRootfs]: PKG_PATHS.rootfs }),
    );
  const cmd = input.cmd ?? [];
  const urunc = uruncAnnotations({
    guest: input.guest,
    platform,
    // urunc takes the first word as the application's name (Unikraft's argv[0]; Linux's init) and
    // the rest as its arguments (urunc pkg/unikontainers/unikernels/unikraft.go, linux.go).
    cmdline: joinCmd(input.guest === "unikraft" ? ["kernel", ...cmd] : cmd),
    initrd: input.initrd !== undefined,
    rootfs: input.rootfs !== undefined,
    ...(input.kernelVersion ? { kernelVersion: input.kernelVersion } : {}),
  });
  // urunc's fallback for runtimes that drop image annotations: /urunc.json in the root filesystem, values base64.
  const uruncJson = Object.fromEntries(
    Object.entries(urunc).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
  );
  const uj = await store.putStream(await jsonTar(JSON.stringify(uruncJson), PKG_PATHS.uruncJson));
  layers.push({ mediaType: PKG_MEDIA.layerTar, digest: uj.digest, size: uj.size });

  const features = kconfigFeatures(input.features ?? []);
  const config = {
    architecture,
    os: platform,
    ...(input.kernelVersion ? { "os.version": input.kernelVersion } : {}),
    ...(features.length ? { "os.features": features } : {}),
    config: {
      ...(cmd.length ? { Cmd: cmd } : {}),
      ...(input.env?.length ? { Env: input.env } : {}),
      Labels: { ...input.labels, ...urunc },
    },
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
  };
  const configDesc = await store.putJson(config, MEDIA.ociConfig);
  const manifestAnnotations: Record<string, string> = {
    [ANNOTATION.refName]: ref,
    [ANNOTATION.created]: created,
    [ANNOTATION.kraftkitVersion]: KRAFTKIT_COMPAT_VERSION,
    [ANNOTATION.containerdName]: ref,
    [ANNOTATION.unikraftName]: ref,
    [ANNOTATION.kilnGuest]: input.guest,
    ...(input.kernelVersion ? { [ANNOTATION.kernelVersion]: input.kernelVersion } : {}),
    ...(input.kernelArgs?.length ? { [ANNOTATION.kilnKernelArgs]: JSON.stringify(input.kernelArgs) } : {}),
    ...urunc,
  };
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: configDesc,
    layers,
    annotations: manifestAnnotations,
  };
  const manifestDesc = await store.putJson(manifest, MEDIA.ociManifest);
  const plat: Platform = {
    architecture,
    os: platform,
    ...(input.kernelVersion ? { "os.version": input.kernelVersion } : {}),
    ...(features.length ? { "os.features": features } : {}),
  };
  const entry: Descriptor = { ...manifestDesc, platform: plat, annotations: manifestAnnotations };
  const index = await store.updateRef(ref, async (prev) => {
    // Other platforms/architectures already under this reference stay (KraftKit's merge strategy).
    let others: Descriptor[] = [];
    if (prev && prev.mediaType === MEDIA.ociIndex && (await store.hasBlob(prev.digest))) {
      const doc = await store.readJson<{ manifests: Descriptor[] }>(prev.digest);
      others = doc.manifests.filter(
        (m) => !(m.platform?.os === platform && m.platform.architecture === architecture),
      );
    }
    const indexDoc = {
      schemaVersion: 2,
      mediaType: MEDIA.ociIndex,
      manifests: [...others, entry],
      annotations: {
        [ANNOTATION.refName]: ref,
        [ANNOTATION.kraftkitVersion]: KRAFTKIT_COMPAT_VERSION,
        [ANNOTATION.containerdName]: ref,
      },
    };
    return await store.putJson(indexDoc, MEDIA.ociIndex);
  });
  return {
    ref,
    index,
    manifest: manifestDesc,
    platform: plat,
    sizeBytes: layers.reduce((n, l) => n + (l.size ?? 0), 0),
  };
}

/** A tar stream of one small file made from text. */
async function jsonTar(text: string, dst: string): Promise<Readable> {
  // A static import: the bundled CLI's dynamic import of this CommonJS module had no `pack`.
  const p = pack();
  p.entry({ name: dst, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0, uname: "", gname: "" }, text);
  p.finalize();
  return Readable.from(p as unknown as AsyncIterable<Buffer>);
}

/** Throws when a package input is missing (before anything is written). */
export function checkPackageInput(input: PackageInput, exists: (p: string) => boolean): void {
  for (const [flag, p] of [
    ["--kernel", input.kernel],
    ["--initrd", input.initrd],
    ["--rootfs", input.rootfs],
  ] as const) {
    if (p !== undefined && !exists(p)) {
      throw new KilnError("INPUT_NOT_FOUND", `${flag} ${p} does not exist`, {
        hint: "check the path (kiln build makes a project's kernel)",
      });
    }
  }
}
