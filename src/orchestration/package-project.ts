/**
 * `kiln pkg [DIR]`: a project's built targets (or, for a `runtime:` project,
 * the runtime's kernel with the project's root filesystem) packaged under one
 * reference, one manifest per platform/architecture, as `kraft pkg` does.
 * And `kiln pkg --kernel FILE`: a kernel given directly.
 */
import { existsSync, statSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KilnError } from "../core/errors.js";
import { buildRootfs } from "../image/build.js";
import type { Project } from "../kraftfile/types.js";
import { detectKernel } from "../machine/kernel-detect.js";
import {
  checkPackageInput,
  dotConfigEntries,
  type PackageInput,
  type PackageResult,
  packageKernel,
} from "../pkg/package.js";
import { targetArtifacts } from "../unikraft/artifacts.js";
import { targetConfigFile } from "../unikraft/build.js";
import { selectTargets } from "../unikraft/select.js";
import { buildRuntimeProject, type PackageRunOptions, packageStore, preparePackage } from "./package-run.js";

export interface PackageProjectOptions extends PackageRunOptions {
  name: string;
  target?: string;
  platform?: string;
  architecture?: string;
  all?: boolean;
  /** Include the unstripped `.dbg` kernel. */
  dbg?: boolean;
}

function envList(env: Record<string, string>): string[] {
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

/** Package a project's built targets (or its runtime + rootfs) under `opts.name`. */
export async function packageProject(
  project: Project,
  opts: PackageProjectOptions,
): Promise<PackageResult[]> {
  const store = packageStore(opts.env);
  const common = {
    name: opts.name,
    cmd: project.cmd,
    env: envList(project.env),
    labels: project.labels,
  };
  if (project.runtime) {
    const built = await buildRuntimeProject(project, opts);
    const rt = await preparePackage(project.runtime, opts);
    return [
      await packageKernel(store, {
        ...common,
        kernel: built.kernel,
        ...(built.initrd ? { initrd: built.initrd } : rt.initrd ? { initrd: rt.initrd } : {}),
        ...(rt.rootfs ? { rootfs: rt.rootfs } : {}),
        guest: rt.guest ?? "unikraft",
        platform: rt.platform,
        architecture: rt.architecture,
        cmd: project.cmd.length ? project.cmd : rt.cmd,
        env: [...rt.env, ...envList(project.env)],
      }),
    ];
  }
  const targets = selectTargets(project, {
    ...(opts.target !== undefined ? { name: opts.target } : {}),
    ...(opts.platform !== undefined ? { platform: opts.platform } : {}),
    ...(opts.architecture !== undefined ? { architecture: opts.architecture } : {}),
    all: opts.all === true,
  });
  const version = project.unikraft?.source.type === "git" ? project.unikraft.source.version : undefined;
  const results: PackageResult[] = [];
  for (const target of targets) {
    const art = targetArtifacts(project, target);
    if (!existsSync(art.kernel)) {
      throw new KilnError("NOT_BUILT", `target ${target.name} is not built: ${art.kernel} does not exist`, {
        hint: `run: kiln build -t ${target.name}`,
      });
    }
    const config = await readFile(targetConfigFile(project, target), "utf8").catch(() => "");
    results.push(
      await packageKernel(store, {
        ...common,
        kernel: art.kernel,
        ...(opts.dbg && existsSync(art.kernelDbg) ? { kernelDbg: art.kernelDbg } : {}),
        ...(art.initrd && existsSync(art.initrd) ? { initrd: art.initrd } : {}),
        guest: "unikraft",
        platform: target.platform,
        architecture: target.architecture,
        ...(version ? { kernelVersion: version } : {}),
        features: dotConfigEntries(config),
        ...(target.cmd ? { cmd: target.cmd } : {}),
      }),
    );
    opts.reporter?.info(`packaged ${target.name} (${target.platform}/${target.architecture})`);
  }
  return results;
}

export interface PackageKernelOptions extends PackageRunOptions {
  name: string;
  kernel: string;
  /** A file, or a directory packed to CPIO first. */
  initrd?: string;
  rootfs?: string;
  platform: string;
  architecture: string;
  cmd?: string[];
  /** `K=V` for the application. */
  envVars?: string[];
  kernelArgs?: string[];
  kernelVersion?: string;
}

/** `kiln pkg --kernel FILE …`: package a kernel given directly; Linux or Unikraft is read from the file. */
export async function packageKernelFile(opts: PackageKernelOptions): Promise<PackageResult> {
  checkPackageInput(
    {
      name: opts.name,
      kernel: opts.kernel,
      initrd: opts.initrd,
      rootfs: opts.rootfs,
      guest: "unikraft",
      platform: opts.platform,
      architecture: opts.architecture,
    },
    existsSync,
  );
  const info = await detectKernel(opts.kernel);
  let scratch: string | undefined;
  let initrd = opts.initrd;
  try {
    if (initrd && statSync(initrd).isDirectory()) {
      scratch = await mkdtemp(join(tmpdir(), "kiln-pkg-"));
      const out = join(scratch, "initrd.cpio");
      await buildRootfs({
        source: initrd,
        output: out,
        format: "cpio",
        ...(opts.reporter ? { reporter: opts.reporter } : {}),
      });
      initrd = out;
    }
    const input: PackageInput = {
      name: opts.name,
      kernel: opts.kernel,
      ...(initrd ? { initrd } : {}),
      ...(opts.rootfs ? { rootfs: opts.rootfs } : {}),
      guest: info.guest,
      platform: opts.platform,
      architecture: opts.architecture,
      ...(opts.cmd?.length ? { cmd: opts.cmd } : {}),
      ...(opts.envVars?.length ? { env: opts.envVars } : {}),
      ...(opts.kernelArgs?.length ? { kernelArgs: opts.kernelArgs } : {}),
      ...(opts.kernelVersion ? { kernelVersion: opts.kernelVersion } : {}),
    };
    return await packageKernel(packageStore(opts.env), input);
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}
