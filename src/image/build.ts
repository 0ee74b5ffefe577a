/**
 * `buildRootfs`: source → staging tree → image. The staging directory lives
 * beside the output (same filesystem, so no surprise `/tmp` exhaustion) and
 * is removed on success, failure and process exit; the image itself appears
 * atomically (temporary file, then rename), so an interrupted run leaves
 * nothing behind.
 */
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { cp, mkdir, mkdtemp, realpath, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { KilnError } from "../core/errors.js";
import { produceAtomically } from "../core/fs.js";
import { type Reporter, silentReporter } from "../core/output.js";
import { kilnDirs } from "../core/paths.js";
import { cpioSpecFor } from "./cpio-metadata.js";
import { makeErofs } from "./erofs.js";
import { makeExt4, uuidFromDigest } from "./ext4.js";
import { applyGuestSetup, type GuestSetupOptions, type InitSystem } from "./guest-setup.js";
import { applyTarFile, finishDirs, pendingDirs } from "./layers.js";
import { buildDebianTarball, type DebianOptions } from "./sources/debian.js";
import {
  applyLayers,
  dockerArchiveLayers,
  extractArchive,
  ociLayoutLayers,
} from "./sources/image-archive.js";
import { type Platform, parsePlatform } from "./sources/oci-manifest.js";
import { pullImage } from "./sources/registry.js";
import { detectSource, parseSourceSpec, type SourceSpec } from "./sources/spec.js";
import { clampMtimes, emptyTree, type StagedTree, walkTree } from "./tree.js";

export type RootfsFormat = "cpio" | "ext4" | "erofs";

/** The format an output name implies (`.cpio`, `.cpio.gz`, `.img`, `.ext4`, `.erofs`), if any. */
export function formatFromOutput(output: string): { format: RootfsFormat; gzip: boolean } | undefined {
  const name = basename(output).toLowerCase();
  if (name.endsWith(".cpio.gz") || name.endsWith(".cpio.gzip")) return { format: "cpio", gzip: true };
  if (name.endsWith(".cpio") || name.endsWith(".initrd")) return { format: "cpio", gzip: false };
  if (name.endsWith(".img") || name.endsWith(".ext4")) return { format: "ext4", gzip: false };
  if (name.endsWith(".erofs")) return { format: "erofs", gzip: false };
  return undefined;
}

export interface BuildRootfsOptions {
  /** Directory, tarball, OCI layout, docker save archive, `docker://REF`, `debian:SUITE`. */
  source: string;
  output: string;
  /** Default: from the output's extension. */
  format?: RootfsFormat;
  /** ext4 only: image size (default: content plus headroom). */
  sizeBytes?: number;
  /** CPIO only: gzip it (Linux initramfs). */
  gzip?: boolean;
  /** Keep a directory source's host owners instead of root:root. */
  keepOwner?: boolean;
  uuid?: string;
  /** Clamp timestamps to this (and fix UUIDs) for reproducible images. */
  sourceDateEpoch?: number;
  /** Registry and OCI images: `os/arch[/variant]`, default `linux/amd64`. */
  platform?: string;
  /** Set the tree up as a bootable Linux guest (getty on ttyS0, mounts, hostname, …). */
  guestSetup?: GuestSetupOptions;
  /** `debian:SUITE` sources: mirror, variant, extra packages. */
  debian?: Omit<DebianOptions, "suite" | "distro" | "output">;
  /** Allow plain HTTP to a registry other than localhost. */
  insecureRegistry?: boolean;
  /** Blob cache; default `kilnDirs().cacheDir`. */
  cacheDir?: string;
  reporter?: Reporter;
  signal?: AbortSignal;
}

export interface BuildRootfsResult {
  output: string;
  format: RootfsFormat;
  sourceKind: SourceSpec["kind"];
  sizeBytes: number;
  uuid?: string;
  /** Device nodes and FIFOs recorded from the source. */
  specials: number;
  initSystem?: InitSystem;
  durationMs: number;
}

/** Build a root filesystem image (see {@link BuildRootfsOptions}). */
export async function buildRootfs(opts: BuildRootfsOptions): Promise<BuildRootfsResult> {
  const started = Date.now();
  const reporter = opts.reporter ?? silentReporter;
  const output = resolve(opts.output);
  const implied = formatFromOutput(output);
  const format = opts.format ?? implied?.format;
  if (!format) {
    throw new KilnError(
      "ROOTFS_BAD_FORMAT",
      `cannot tell the image format from the output name "${opts.output}"`,
      {
        hint: "name it .cpio, .cpio.gz, .img, .ext4 or .erofs, or pass --format cpio|ext4|erofs",
      },
    );
  }
  const gzip = opts.gzip ?? (format === "cpio" && implied?.format === "cpio" && implied.gzip);
  if (gzip && format !== "cpio")
    throw new KilnError("ROOTFS_BAD_FORMAT", `--gzip applies to cpio, not ${format}`);
  if (opts.sizeBytes !== undefined && format !== "ext4") {
    reporter.warn(`--size applies to ext4 images only; ignored for ${format}`);
  }
  const platform = parsePlatform(opts.platform ?? "linux/amd64");
  const parsed = parseSourceSpec(opts.source);
  const spec: SourceSpec = parsed.kind === "path" ? await detectSource(parsed.path) : parsed;

  const outputReal = join(await realpath(dirname(output)).catch(() => dirname(output)), basename(output));
  const inSource = spec.kind === "directory" && outputReal.startsWith(`${await realpath(spec.path)}/`);
  if (inSource && format !== "cpio") {
    // mkfs.ext4 -d would copy the half-written image into itself; the CPIO writer skips its own output.
    throw new KilnError(
      "ROOTFS_OUTPUT_IN_SOURCE",
      `output ${output} is inside the source directory ${spec.path}`,
      {
        hint: "write the image outside the directory it is built from",
      },
    );
  }
  await mkdir(dirname(output), { recursive: true });
  // Staging beside the output (same filesystem), unless that would put it inside the source tree.
  const workDir = await mkdtemp(join(inSource ? tmpdir() : dirname(output), ".kiln-rootfs-"));
  // SIGINT ends the process through process.exit, skipping `finally`; this still runs then.
  const onExit = () => rmSync(workDir, { recursive: true, force: true });
  process.on("exit", onExit);
  try {
    const tree = await stage(spec, workDir, {
      ...opts,
      format,
      platform,
      platformGiven: opts.platform !== undefined,
      reporter,
    });
    let initSystem: InitSystem | undefined;
    if (opts.guestSetup) initSystem = (await applyGuestSetup(tree.dir, opts.guestSetup, reporter)).initSystem;
    const epochSec = opts.sourceDateEpoch;
    if (epochSec !== undefined && format === "ext4") await clampMtimes(tree.dir, epochSec);
    let uuid = opts.uuid;
    if (format === "cpio") {
      const { packCpio } = await import("./cpio/index.js");
      const spec = await cpioSpecFor(tree);
      if (spec.skipped.length > 0) {
        reporter.warn(
          `${spec.skipped.length} recorded owner(s)/device(s) cannot be expressed in the CPIO archive (symlinks or names with spaces), e.g. /${spec.skipped[0]}`,
        );
      }
      const specFile = join(workDir, "cpio.spec");
      if (spec.lines > 0) await writeFile(specFile, spec.text);
      await packCpio({
        sourceDir: tree.dir,
        output,
        gzip,
        keepOwner: opts.keepOwner && !tree.ownersRecorded,
        sourceDateEpoch: epochSec,
        ...(spec.lines > 0 ? { deviceSpec: specFile } : {}),
        reporter,
        signal: opts.signal,
      });
    } else {
      await produceAtomically(output, async (tmp) => {
        if (format === "ext4") {
          const r = await makeExt4({
            tree,
            output: tmp,
            sizeBytes: opts.sizeBytes,
            uuid: opts.uuid,
            epochSec,
            keepOwner: opts.keepOwner,
            workDir,
            reporter,
          });
          uuid = r.uuid;
        } else {
          if (uuid === undefined && epochSec !== undefined) uuid = await treeUuid(tree.dir, epochSec);
          await makeErofs({ tree, output: tmp, uuid, epochSec, keepOwner: opts.keepOwner, reporter });
        }
        if (opts.signal?.aborted) throw new KilnError("INTERRUPTED", "interrupted");
      });
    }
    const { size } = await stat(output);
    return {
      output,
      format,
      sourceKind: spec.kind,
      sizeBytes: size,
      ...(uuid ? { uuid } : {}),
      specials: tree.specials.size,
      ...(initSystem ? { initSystem } : {}),
      durationMs: Date.now() - started,
    };
  } finally {
    process.off("exit", onExit);
    await rm(workDir, { recursive: true, force: true });
  }
}

/** A UUID derived from the tree's listing (names, types, modes, sizes, clamped mtimes). */
async function treeUuid(dir: string, epochSec: number): Promise<string> {
  const h = createHash("sha256");
  for await (const e of walkTree(dir)) {
    h.update(`${e.path}\0${e.type}\0${e.mode}\0${e.sizeBytes}\0${Math.min(e.mtimeSec, epochSec)}\n`);
  }
  return uuidFromDigest(h.digest());
}

/** Debian's name for an OCI platform's architecture (`linux/arm/v7` → `armhf`). */
export function dpkgArchitecture(p: Platform): string {
  if (p.architecture === "arm") return p.variant === "v5" ? "armel" : "armhf";
  const map: Record<string, string> = { "386": "i386", ppc64le: "ppc64el", mips64le: "mips64el" };
  return map[p.architecture] ?? p.architecture;
}

type StageOptions = Omit<BuildRootfsOptions, "platform"> & {
  format: RootfsFormat;
  platform: Platform;
  platformGiven: boolean;
  reporter: Reporter;
};

/** Turn the source into a staged tree under `workDir` (or the source directory itself). */
async function stage(spec: SourceSpec, workDir: string, opts: StageOptions): Promise<StagedTree> {
  const dir = join(workDir, "root");
  const progressOpts = { reporter: opts.reporter, signal: opts.signal };
  switch (spec.kind) {
    case "directory": {
      // Use the directory in place unless Kiln must change it (guest set-up, clamped times).
      const mustCopy =
        opts.guestSetup !== undefined || (opts.sourceDateEpoch !== undefined && opts.format === "ext4");
      if (!mustCopy) return emptyTree(resolve(spec.path), false);
      await cp(spec.path, dir, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true }).catch(
        (e) => {
          throw new KilnError(
            "ROOTFS_BAD_SOURCE",
            `cannot copy ${spec.path} for guest set-up: ${(e as Error).message}`,
            {
              cause: e,
            },
          );
        },
      );
      return emptyTree(dir, false);
    }
    case "tarball":
    case "debian": {
      await mkdir(dir);
      const tree = emptyTree(dir);
      let tarball = spec.kind === "tarball" ? spec.path : "";
      if (spec.kind === "debian") {
        tarball = join(workDir, "debian.tar");
        await buildDebianTarball(
          {
            ...opts.debian,
            distro: spec.distro,
            suite: spec.suite,
            output: tarball,
            ...(opts.platformGiven ? { architecture: dpkgArchitecture(opts.platform) } : {}),
          },
          progressOpts,
        );
      }
      const dirs = pendingDirs();
      await applyTarFile(tarball, tree, dirs, {
        whiteouts: false,
        label: basename(tarball),
        ...progressOpts,
      });
      await finishDirs(tree, dirs);
      if (spec.kind === "debian") await rm(tarball, { force: true });
      return tree;
    }
    case "oci-layout":
    case "docker-archive":
    case "registry": {
      let layers: string[];
      let names: string[] | undefined;
      let scratch: string | undefined;
      if (spec.kind === "oci-layout") layers = await ociLayoutLayers(spec.path, opts.platform);
      else if (spec.kind === "docker-archive") {
        scratch = join(workDir, "archive");
        await mkdir(scratch);
        await extractArchive(spec.path, scratch, opts.signal);
        layers = await dockerArchiveLayers(scratch, opts.reporter);
      } else {
        const pulled = await pullImage(spec.ref, {
          platform: opts.platform,
          insecure: opts.insecureRegistry,
          cacheDir: opts.cacheDir ?? kilnDirs().cacheDir,
          ...progressOpts,
        });
        layers = pulled.layers.map((l) => l.path);
        names = pulled.layers.map((l) => l.digest.slice(0, 19));
      }
      await mkdir(dir);
      const tree = emptyTree(dir);
      const dirs = await applyLayers(layers, tree, { ...progressOpts, names });
      await finishDirs(tree, dirs);
      if (scratch) await rm(scratch, { recursive: true, force: true });
      return tree;
    }
  }
}
