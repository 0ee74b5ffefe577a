/**
 * Linux microVM projects (a Linuxfile): the orchestration layer that
 * composes the kernel domain (build or use a kernel), the image domain (make
 * the root filesystem) and, through run settings, the machine domain. The
 * domains do not know about each other; this module is the only place that
 * ties them together.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { errnoText, KilnError } from "../../core/errors.js";
import { type Reporter, silentReporter } from "../../core/output.js";
import { parseSize } from "../../core/units.js";
import { buildRootfs } from "../../image/build.js";
import { buildKernel, type KernelBuildResult } from "../../kernel/build.js";
import type { Fragment } from "../../kernel/types.js";
import { chosenConfigurator } from "./kconfig-engine.js";
import { LINUXFILE, type LinuxProject, loadLinuxfileText } from "./schema.js";

export * from "./schema.js";

/** The Linuxfile of `dir` when the directory holds one and no Kraftfile. */
export function linuxfileIn(dir: string): string | undefined {
  const lf = join(dir, LINUXFILE);
  if (!existsSync(lf)) return undefined;
  return ["Kraftfile", "kraftfile", "Kraftfile.yaml", "Kraftfile.yml"].some((k) => existsSync(join(dir, k)))
    ? undefined
    : lf;
}

/** Read and validate a Linuxfile. */
export async function loadLinuxProject(file: string): Promise<LinuxProject> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new KilnError("LINUXFILE_UNREADABLE", `${file} cannot be read: ${errnoText(e)}`);
  }
  return loadLinuxfileText(text, file);
}

/** Where a project's outputs go: `<dir>/.kiln/linux/`. */
export function linuxOutputs(project: LinuxProject, dir: string): { kernel: string; rootfs: string } {
  const out = join(dir, ".kiln", "linux");
  const kernel =
    project.kernel.kind === "file"
      ? resolve(dir, project.kernel.path)
      : join(out, project.kernel.arch === "arm64" ? "Image" : "vmlinux");
  return { kernel, rootfs: join(out, `rootfs.${project.rootfs.format}`) };
}

/** What `kiln build` made. */
export interface LinuxBuildResult {
  kernel: string;
  kernelBuild?: KernelBuildResult;
  rootfs: string;
  rootfsSizeBytes: number;
}

/** A path in the project relative to its directory; sources like `debian:bookworm` stay as they are. */
function projectPath(dir: string, p: string): string {
  return /^[a-z]+:/.test(p) && !p.startsWith("/") ? p : resolve(dir, p);
}

/** Build a Linux project: the kernel (cached by content) and the root filesystem. */
export async function buildLinuxProject(
  project: LinuxProject,
  dir: string,
  o: { cacheDir: string; env?: NodeJS.ProcessEnv; reporter?: Reporter; jobs?: number; signal?: AbortSignal },
): Promise<LinuxBuildResult> {
  const reporter = o.reporter ?? silentReporter;
  const outputs = linuxOutputs(project, dir);
  let kernelBuild: KernelBuildResult | undefined;
  const k = project.kernel;
  if (k.kind === "source") {
    const configurator = chosenConfigurator(o.env);
    const fragments: Fragment[] = [];
    for (const f of k.fragments) {
      const path = resolve(dir, f);
      fragments.push({ path, text: await readFile(path, "utf8") });
    }
    const base = k.config
      ? {
          kind: "file" as const,
          path: resolve(dir, k.config),
          text: await readFile(resolve(dir, k.config), "utf8"),
        }
      : { kind: "baseline" as const };
    kernelBuild = await buildKernel({
      source: projectPath(dir, k.source),
      arch: k.arch,
      base,
      fragments,
      out: outputs.kernel,
      cacheDir: o.cacheDir,
      ...(o.env ? { env: o.env } : {}),
      reporter,
      ...(o.jobs ? { jobs: o.jobs } : {}),
      ...(configurator ? { configurator } : {}),
    });
  } else if (!existsSync(outputs.kernel)) {
    throw new KilnError("LINUX_KERNEL_MISSING", `kernel.file ${k.path} of ${project.file} does not exist`, {
      hint: "build one with kiln kernel build, or use kernel.source",
    });
  }
  const r = project.rootfs;
  const built = await buildRootfs({
    source: projectPath(dir, r.source),
    output: outputs.rootfs,
    format: r.format,
    ...(r.size ? { sizeBytes: parseSize(r.size, 1024 * 1024, "rootfs.size") } : {}),
    ...(r.guestSetup
      ? {
          guestSetup: {
            ...(r.hostname ? { hostname: r.hostname } : {}),
            ...(r.passwordlessRoot ? { passwordlessRoot: true } : {}),
            ...(project.kernel.arch === "arm64" ? { console: "ttyAMA0" } : {}),
          },
        }
      : {}),
    ...(r.packages.length > 0 ? { debian: { include: r.packages } } : {}),
    cacheDir: o.cacheDir,
    reporter,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  return {
    kernel: outputs.kernel,
    ...(kernelBuild ? { kernelBuild } : {}),
    rootfs: outputs.rootfs,
    rootfsSizeBytes: built.sizeBytes,
  };
}

/** The `kiln run` settings of a built project (command-line options still win). */
export interface LinuxRunSettings {
  kernel: string;
  rootfs: string;
  kernelArgs: string[];
  memory?: string;
  cpus?: string;
  volumes: string[];
  publish: string[];
}

/** Run settings for a project built by {@link buildLinuxProject}; NOT_BUILT when its outputs are missing. */
export function linuxRunSettings(project: LinuxProject, dir: string): LinuxRunSettings {
  const outputs = linuxOutputs(project, dir);
  for (const p of [outputs.kernel, outputs.rootfs]) {
    if (!existsSync(p)) {
      throw new KilnError("NOT_BUILT", `${project.name} is not built: ${p} does not exist`, {
        hint: `run kiln build ${dir} first`,
      });
    }
  }
  return {
    kernel: outputs.kernel,
    rootfs: outputs.rootfs,
    kernelArgs: [...(project.init ? [`init=${project.init}`] : []), ...project.cmdline],
    ...(project.memory ? { memory: project.memory } : {}),
    ...(project.cpus ? { cpus: String(project.cpus) } : {}),
    volumes: project.volumes.map((v) => {
      const [src, ...rest] = v.split(":");
      return [resolve(dir, src ?? ""), ...rest].join(":");
    }),
    publish: project.ports,
  };
}
