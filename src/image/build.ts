/**
 * `buildRootfs`: source → staging tree → image. The staging directory lives
 * beside the output (same filesystem, so no surprise `/tmp` exhaustion) and
 * is removed on success, failure and process exit; the image itself appears
 * atomically (temporary file, then rename), so an interrupted run leaves
 * nothing behind.
 */
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { mkdir, mkdtemp, open, realpath, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { errnoCode, errnoText, KilnError } from "../core/errors.js";
import { fileTypeName, produceAtomically, tempPathFor } from "../core/fs.js";
import { type Reporter, silentReporter } from "../core/output.js";
import { kilnDirs } from "../core/paths.js";
import { copyTreeInto } from "./copy-tree.js";
import type { SpecEntry } from "./cpio/spec.js";
import { cpioSpecFor } from "./cpio-metadata.js";
import { applyDeviceSpec, deviceSpecCommands, loadDeviceSpec } from "./device-spec.js";
import { makeErofs } from "./erofs.js";
import { checkUuid, makeExt4, uuidFromDigest } from "./ext4.js";
import { applyGuestSetup, type GuestSetupOptions, type InitSystem } from "./guest-setup.js";
import { guestSetupDebugfsCommands } from "./guest-setup-image.js";
import { applyTarFile, finishDirs, pendingDirs } from "./layers.js";
import { type PackageMirror, resolvePackageMirror } from "./sources/apt-mirror.js";
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
import { emptyTree, type StagedTree, walkTree } from "./tree.js";

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
  /** ext4 and EROFS: filesystem UUID (ignored, with a warning, for CPIO). */
  uuid?: string;
  /**
   * A device/ownership spec file (`/dev/console c 5 1 0600 0 0`, see
   * {@link parseDeviceSpec}), merged over the source's own device nodes and
   * owners: CPIO and ext4 get every line; EROFS cannot take device nodes or
   * FIFOs the source lacks (an error).
   */
  deviceSpec?: string;
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
  /** Device nodes and FIFOs in the image (recorded from the source, or from the device spec). */
  specials: number;
  initSystem?: InitSystem;
  /** `debian:SUITE`: the package mirror used and where it came from (`--mirror`, an env var, config.yaml, `apt: FILE:LINE`). */
  mirror?: { uri: string; from: string };
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
  let uuid = opts.uuid;
  if (uuid !== undefined && format === "cpio") {
    reporter.warn("--uuid applies to ext4 and erofs images only; ignored for cpio");
    uuid = undefined;
  } else if (uuid !== undefined) checkUuid(uuid);
  const platform = parsePlatform(opts.platform ?? "linux/amd64");
  const userSpec: SpecEntry[] = opts.deviceSpec ? await loadDeviceSpec(opts.deviceSpec) : [];
  const specNodes = userSpec.filter((e) => e.type === "char" || e.type === "block" || e.type === "fifo");
  if (format === "erofs" && specNodes.length > 0) {
    throw new KilnError(
      "ROOTFS_UNSUPPORTED",
      `mkfs.erofs cannot add device nodes or FIFOs the source lacks, and ${opts.deviceSpec} has ${specNodes.length} (e.g. /${specNodes[0]!.path})`,
      { hint: "build a cpio or ext4 image for --device-spec device nodes, or put the nodes in the source" },
    );
  }
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
  await checkOutput(opts.output, output, spec, format);
  // Before any work: a host without a usable apt entry fails here, and the choice is said once.
  const packageMirror =
    spec.kind === "debian"
      ? await resolvePackageMirror({ distro: spec.distro, suite: spec.suite, mirror: opts.debian?.mirror })
      : undefined;
  // Staging beside the output (same filesystem), unless that would put it inside the source tree.
  const workDir = await mkdtemp(join(inSource ? tmpdir() : dirname(output), ".kiln-rootfs-")).catch((e) => {
    throw unwritable(opts.output, e);
  });
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
      output,
      packageMirror,
    });
    let initSystem: InitSystem | undefined;
    let extraCommands: string[] | undefined;
    if (opts.guestSetup && !tree.ownersRecorded && format === "ext4") {
      // The source directory in place: the set-up's files go into the image through debugfs.
      const g = await guestSetupDebugfsCommands(tree.dir, opts.guestSetup, workDir, reporter);
      initSystem = g.initSystem;
      extraCommands = g.commands;
    } else if (opts.guestSetup) {
      initSystem = (await applyGuestSetup(tree.dir, opts.guestSetup, reporter)).initSystem;
    }
    const epochSec = opts.sourceDateEpoch;
    // ext4 clamps mtimes in the image (debugfs, see makeExt4), so a source directory is never copied for it.
    // CPIO merges the spec itself (packCpio); ext4 of a directory in place takes it as debugfs commands.
    let preCommands: string[] | undefined;
    if (format === "ext4" && !tree.ownersRecorded && userSpec.length > 0)
      preCommands = await deviceSpecCommands(tree, userSpec, epochSec ?? 0);
    else if (format !== "cpio" && userSpec.length > 0) await applyDeviceSpec(tree, userSpec, epochSec ?? 0);
    const userPaths = new Set(userSpec.map((e) => e.path));
    // Device nodes and FIFOs in the image: the source's, and the spec's (already in the tree but for CPIO).
    let specials = tree.specials.size;
    if (format === "cpio") {
      specials += specNodes.filter((e) => !tree.specials.has(e.path)).length;
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
        // The user's spec comes last, so its lines override what the source recorded.
        deviceSpec: [...(spec.lines > 0 ? [specFile] : []), ...(opts.deviceSpec ? [opts.deviceSpec] : [])],
        extraEntries: spec.nodes.filter((n) => !userPaths.has(n.path)),
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
            uuid,
            epochSec,
            keepOwner: opts.keepOwner,
            preCommands,
            extraCommands,
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
      specials,
      ...(initSystem ? { initSystem } : {}),
      ...(packageMirror ? { mirror: { uri: packageMirror.uri, from: packageMirror.from } } : {}),
      durationMs: Date.now() - started,
    };
  } finally {
    // Removed before the exit hook goes: an interrupt's process.exit can land while this rm is
    // in flight (the Ctrl-C test left .kiln-rootfs-* behind 1 run in 4 under load).
    await rm(workDir, { recursive: true, force: true });
    process.off("exit", onExit);
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

type StageOptions = Omit<BuildRootfsOptions, "platform" | "output"> & {
  /** The absolute output path (left out of a directory source's copy). */
  output: string;
  format: RootfsFormat;
  platform: Platform;
  platformGiven: boolean;
  reporter: Reporter;
  /** `debian:SUITE`: the mirror resolved before staging. */
  packageMirror?: PackageMirror;
};

/** Turn the source into a staged tree under `workDir` (or the source directory itself). */
async function stage(spec: SourceSpec, workDir: string, opts: StageOptions): Promise<StagedTree> {
  const dir = join(workDir, "root");
  const progressOpts = { reporter: opts.reporter, signal: opts.signal };
  // CPIO newc's size field is 8 hex digits: check archive entries while staging, not after.
  const limits = opts.format === "cpio" ? { maxFileBytes: 0xffffffff } : {};
  switch (spec.kind) {
    case "directory": {
      // In place unless Kiln must change it (a device spec, guest set-up); ext4 takes either as debugfs
      // commands (both: a copy, so the set-up sees the spec's changes) and clamps times in the image.
      const mustCopy =
        opts.format === "ext4"
          ? opts.guestSetup !== undefined && opts.deviceSpec !== undefined
          : opts.guestSetup !== undefined || (opts.deviceSpec !== undefined && opts.format !== "cpio");
      if (!mustCopy) return emptyTree(resolve(spec.path), false);
      await mkdir(dir);
      const tree = emptyTree(dir);
      const tmpPrefix = join(dirname(opts.output), `.${basename(opts.output)}.kiln-tmp-`);
      await copyTreeInto(resolve(spec.path), tree, {
        keepOwner: opts.keepOwner,
        // A CPIO written inside its source: neither the old image nor a temporary file is content.
        exclude: (abs) => abs === opts.output || abs.startsWith(tmpPrefix),
        ...progressOpts,
      });
      return tree;
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
          { ...progressOpts, packageMirror: opts.packageMirror },
        );
      }
      const dirs = pendingDirs();
      await applyTarFile(tarball, tree, dirs, {
        whiteouts: false,
        label: basename(tarball),
        ...progressOpts,
        ...limits,
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
          defaultRegistry: process.env.KILN_REGISTRY || undefined,
          cacheDir: opts.cacheDir ?? kilnDirs().cacheDir,
          ...progressOpts,
        });
        layers = pulled.layers.map((l) => l.path);
        names = pulled.layers.map((l) => l.digest.slice(0, 19));
      }
      await mkdir(dir);
      const tree = emptyTree(dir);
      const dirs = await applyLayers(layers, tree, { ...progressOpts, ...limits, names });
      await finishDirs(tree, dirs);
      if (scratch) await rm(scratch, { recursive: true, force: true });
      return tree;
    }
  }
}

function unwritable(out: string, e: unknown): KilnError {
  const code = errnoCode(e);
  return new KilnError(
    "ROOTFS_OUTPUT_UNWRITABLE",
    `cannot write ${out}: ${code ? `${errnoText(e)} (${code})` : String(e)}`,
    { cause: e, hint: "write the image to a directory you can create files in, e.g. -o ./rootfs.ext4" },
  );
}

/**
 * Before any work: OUT must not be a directory nor the source itself, and a
 * file must be creatable beside it (the image is renamed into place from
 * there), so a long build never fails at its last step.
 */
async function checkOutput(
  given: string,
  output: string,
  spec: SourceSpec,
  format: RootfsFormat,
): Promise<void> {
  const st = await stat(output).catch(() => undefined);
  if (st?.isDirectory()) {
    throw new KilnError("ROOTFS_OUTPUT_IS_DIR", `output ${given} is an existing directory`, {
      hint: `name the image file, not a directory (e.g. -o ${join(given, `rootfs.${format}`)})`,
    });
  }
  if (st && !st.isFile()) {
    // The image is renamed into place: over /dev/null that would replace the host's device node
    // with a regular file (issue 9). Only regular files are replaced.
    throw new KilnError("ROOTFS_OUTPUT_NOT_FILE", `output ${given} exists and is ${fileTypeName(st)}`, {
      hint: "write the image to a regular file (then copy it onto a device with dd if you mean to)",
    });
  }
  if (st && "path" in spec) {
    const src = await stat(spec.path).catch(() => undefined);
    if (src && src.dev === st.dev && src.ino === st.ino) {
      throw new KilnError("ROOTFS_OUTPUT_IS_SOURCE", `output ${given} is the source ${spec.path} itself`, {
        hint: "write the image to another file; the source is read while the image is written",
      });
    }
  }
  const probe = tempPathFor(output);
  try {
    await mkdir(dirname(output), { recursive: true });
    await (await open(probe, "wx", 0o600)).close();
  } catch (e) {
    throw unwritable(given, e);
  }
  await rm(probe, { force: true });
}
