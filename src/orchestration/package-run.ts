/**
 * Packages meet runs and builds: `kiln run REF` (pull when needed, unpack,
 * boot), and Kraftfile projects with `runtime: REF` (the runtime package
 * gives the kernel; the project gives the root filesystem, `cmd` and `env`).
 * Orchestration, so `machine/` and `pkg/` stay unaware of each other: the
 * CLI asks here for files, then plans the run as for any kernel.
 */
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { isKilnError, KilnError } from "../core/errors.js";
import type { Reporter } from "../core/output.js";
import { kilnDirs } from "../core/paths.js";
import type { Project } from "../kraftfile/types.js";
import { canonicalPackageRef, hostPkgArch, normalizePkgArch, normalizePkgPlatform } from "../pkg/platform.js";
import { pullPackage } from "../pkg/pull.js";
import { type UnpackedPackage, unpackPackage } from "../pkg/read.js";
import { PackageStore } from "../pkg/store.js";

export interface PackageRunOptions {
  env: NodeJS.ProcessEnv;
  /** `--plat`: the package's platform to run (`qemu`, `fc`); any when absent. */
  platform?: string;
  /** `--arch`; default the host's. */
  architecture?: string;
  insecure?: boolean;
  reporter?: Reporter;
  signal?: AbortSignal;
}

/** What the run planner needs from a package or runtime project. */
export interface PackageRunTarget extends UnpackedPackage {
  /** The project, for a `runtime:` project run. */
  project?: Project;
}

/** The package store for an environment (`$XDG_DATA_HOME/kiln/oci`, or `$KILN_HOME/data/oci`). */
export function packageStore(env: NodeJS.ProcessEnv = process.env): PackageStore {
  return PackageStore.inDataDir(kilnDirs(env).dataDir);
}

/**
 * The package `ref` from the store, pulled first when the store lacks it,
 * unpacked for a run on the host's architecture.
 */
export async function preparePackage(ref: string, opts: PackageRunOptions): Promise<UnpackedPackage> {
  const store = packageStore(opts.env);
  const canonical = canonicalPackageRef(ref);
  const architecture = opts.architecture ? normalizePkgArch(opts.architecture) : hostPkgArch();
  const platform = opts.platform === undefined ? undefined : normalizePkgPlatform(opts.platform);
  const want = { architecture, ...(platform ? { platform } : {}) };
  if (!(await store.resolve(canonical))) {
    await pullPackage(store, canonical, {
      ...want,
      env: opts.env,
      ...(opts.insecure !== undefined ? { insecure: opts.insecure } : {}),
      ...(opts.reporter ? { reporter: opts.reporter } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }
  try {
    return await unpackPackage(store, canonical, want, kilnDirs(opts.env).cacheDir);
  } catch (e) {
    // The stored index may lack this platform (pulled for another): fetch it and try again.
    if (!isKilnError(e, "PKG_BLOB_MISSING")) throw e;
    await pullPackage(store, canonical, { ...want, env: opts.env });
    return await unpackPackage(store, canonical, want, kilnDirs(opts.env).cacheDir);
  }
}

/**
 * Whether `kiln run ARG` names a package rather than a file: it is not a
 * path that exists, and it is either in the store or names a registry or a
 * tag (`127.0.0.1:5000/app:1`, `nginx:1.25`).
 */
export async function isPackageArgument(arg: string, cwd: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  if (existsSync(resolve(cwd, arg))) return false;
  let canonical: string;
  try {
    canonical = canonicalPackageRef(arg);
  } catch {
    return false;
  }
  if (await packageStore(env).resolve(canonical)) return true;
  const first = arg.split("/")[0]!;
  return (
    (arg.includes("/") && (/[.:]/.test(first) || first === "localhost")) || /^[^/]+:[\w][\w.-]*$/.test(arg)
  );
}

/** True when `dir`'s Kraftfile names a `runtime:` (a cheap look before the full read). */
export async function hasRuntime(dir: string, kraftfile?: string): Promise<boolean> {
  if (!isDirectory(dir)) return false;
  const names = kraftfile ? [kraftfile] : ["Kraftfile", "kraft.yaml", "kraft.yml"].map((n) => join(dir, n));
  for (const n of names) {
    const text = await readFile(n, "utf8").catch(() => undefined);
    if (text !== undefined) return /^runtime\s*:/m.test(text);
  }
  return false;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Where a runtime project's root filesystem is packed: KraftKit's `initramfs-<arch>.cpio` in the outdir. */
export function runtimeInitrdPath(project: Project, architecture: string): string {
  return join(project.outdir, `initramfs-${architecture}.cpio`);
}

/**
 * `kiln build` of a `runtime:` project: pack its `rootfs:` (a directory,
 * archive or image) into the initrd and check the runtime package is
 * available (in the store, or pulled now).
 */
export async function buildRuntimeProject(
  project: Project,
  opts: PackageRunOptions,
): Promise<{ runtime: string; kernel: string; initrd?: string }> {
  if (!project.runtime) throw new KilnError("NOT_A_RUNTIME_PROJECT", `${project.file} has no runtime:`);
  const pkg = await preparePackage(project.runtime, opts).catch((e: unknown) => {
    if (e instanceof KilnError) {
      throw new KilnError(
        "RUNTIME_UNAVAILABLE",
        `runtime ${canonicalPackageRef(project.runtime!)} of ${project.file} is not available: ${e.message}`,
        {
          cause: e,
          hint: e.hint ?? "package it (kiln pkg --kernel …) or pull it (kiln pkg pull REF)",
        },
      );
    }
    throw e;
  });
  let initrd: string | undefined;
  if (project.rootfs) {
    if (/(^|\/)(Dockerfile|Containerfile)[^/]*$/.test(project.rootfs.source)) {
      throw new KilnError(
        "ROOTFS_UNSUPPORTED",
        `${project.file}: rootfs ${project.rootfs.source} is a Dockerfile; Kiln builds no Dockerfiles`,
        {
          hint: "point rootfs: at a directory, an archive or an image (docker://REF) with the files",
        },
      );
    }
    initrd = runtimeInitrdPath(project, pkg.architecture);
    // Loaded only here: a plain kernel run never needs the root filesystem builder.
    const { buildRootfs } = await import("../image/build.js");
    await buildRootfs({
      source: project.rootfs.source,
      output: initrd,
      format: project.rootfs.format === "erofs" ? "erofs" : "cpio",
      ...(opts.reporter ? { reporter: opts.reporter } : {}),
    });
  }
  return { runtime: pkg.ref, kernel: pkg.kernel, ...(initrd ? { initrd } : {}) };
}

/**
 * `kiln run DIR` of a `runtime:` project: the runtime's kernel with the
 * project's packed root filesystem (packed now if `kiln build` has not), `cmd`
 * and `env`; the runtime's own `cmd`/`env` are the defaults.
 */
export async function runtimeProjectRun(
  dir: string,
  opts: PackageRunOptions & { kraftfile?: string },
): Promise<PackageRunTarget> {
  const { loadProject } = await import("../kraftfile/load.js");
  const { project } = await loadProject(dir, {
    ...(opts.kraftfile ? { kraftfile: opts.kraftfile } : {}),
    env: opts.env,
  });
  const pkg = await preparePackage(project.runtime!, opts);
  let initrd = pkg.initrd;
  if (project.rootfs) {
    const packed = runtimeInitrdPath(project, pkg.architecture);
    if (!existsSync(packed)) await buildRuntimeProject(project, opts);
    initrd = packed;
  }
  const env = [...pkg.env, ...Object.entries(project.env).map(([k, v]) => `${k}=${v}`)];
  return {
    ...pkg,
    ...(initrd ? { initrd } : {}),
    cmd: project.cmd.length > 0 ? project.cmd : pkg.cmd,
    env,
    project,
  };
}

/**
 * `kiln run ARG`'s package side: a `runtime:` project directory (ARG absent
 * means the current one) or a package reference; undefined for anything else
 * (a kernel file, a project that builds its own kernel).
 */
export async function resolvePackageRunTarget(
  arg: string | undefined,
  cwd: string,
  opts: PackageRunOptions & { kraftfile?: string },
): Promise<PackageRunTarget | undefined> {
  const path = resolve(cwd, arg ?? ".");
  if (arg === undefined || isDirectory(path)) {
    const kf = opts.kraftfile ? resolve(cwd, opts.kraftfile) : undefined;
    if (!(await hasRuntime(path, kf))) return undefined;
    return await runtimeProjectRun(path, { ...opts, ...(kf ? { kraftfile: kf } : {}) });
  }
  if (!(await isPackageArgument(arg, cwd, opts.env))) return undefined;
  return await preparePackage(arg, opts);
}
