/**
 * `kiln kernel build`: a Linux guest kernel from a source tree and a
 * configuration, cached by content. The cache key of a result is the
 * source's digest, the final `.config`, the compiler's identity and Kiln's
 * version; a request (the same inputs) remembers the key it led to, so a
 * repeated request returns the cached kernel without configuring again.
 * Builds happen out of tree in one build directory per source and
 * architecture, so a changed configuration rebuilds only what it touches
 * (and ccache, when installed, serves compiler runs seen before).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, realpath, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { KilnError } from "../core/errors.js";
import { exec, requireTool, which } from "../core/exec.js";
import { produceAtomically } from "../core/fs.js";
import { type Reporter, silentReporter } from "../core/output.js";
import { kilnVersion } from "../core/version.js";
import { BASELINE_REVISION, baselineFragment } from "./baseline.js";
import {
  configureWithMake,
  type KernelConfigRequest,
  type KernelConfigurator,
  mergeRequest,
} from "./configure.js";
import { openKernelLog, planKernelMake, runKernelMake } from "./make.js";
import { openKernelSource } from "./source.js";
import { ARCH_FACTS, type ConfigOverride, type KernelArch } from "./types.js";

/** What to build. */
export interface KernelBuildRequest extends KernelConfigRequest {
  /** A kernel source directory or tarball. */
  source: string;
  arch: KernelArch;
  /** Where the image goes; its configuration is written to `<out>.config`. */
  out: string;
  jobs?: number;
  cacheDir: string;
  env?: NodeJS.ProcessEnv;
  reporter?: Reporter;
  /** The configuration engine (default: the kernel's own make allnoconfig/olddefconfig). */
  configurator?: KernelConfigurator;
}

/** What a build produced. */
export interface KernelBuildResult {
  image: string;
  config: string;
  arch: KernelArch;
  version: string;
  cached: boolean;
  /** The content key of the result (sha256 hex). */
  key: string;
  overrides: ConfigOverride[];
  /** Counted make steps (0 on a cache hit). */
  steps: number;
  logPath: string;
  buildDir: string;
  durationMs: number;
  engine: string;
}

/** The compiler a build uses and its identity for the cache key. */
export async function toolchainFor(
  arch: KernelArch,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ gcc: string; crossCompile?: string; identity: string }> {
  const facts = ARCH_FACTS[arch];
  const hostArch = process.arch === "x64" ? "x86_64" : process.arch === "arm64" ? "arm64" : process.arch;
  const cross = hostArch === arch ? undefined : facts.crossPrefix;
  if (hostArch !== arch && !cross) {
    throw new KilnError(
      "KERNEL_NO_CROSS_COMPILER",
      `no cross compiler is known for ${arch} on a ${hostArch} host`,
    );
  }
  const gccName = `${cross ?? ""}gcc`;
  const gcc = which(gccName, env.PATH ?? "");
  if (!gcc) {
    throw new KilnError(
      "KERNEL_NO_CROSS_COMPILER",
      `${gccName} not found: building an ${arch} kernel on this ${hostArch} host needs ${cross ? "a cross compiler" : "a C compiler"}`,
      { hint: `on Debian/Ubuntu: apt-get install ${cross ? (facts.crossPackage ?? gccName) : "gcc"}` },
    );
  }
  for (const tool of ["make", "flex", "bison", "bc"]) requireTool(tool, `build a Linux kernel`);
  const version = (await exec([gcc, "--version"], { env })).stdout.split("\n")[0] ?? "";
  return { gcc, ...(cross ? { crossCompile: cross } : {}), identity: `${await realpath(gcc)} ${version}` };
}

const sha256 = (parts: string[]) => createHash("sha256").update(parts.join("\0")).digest("hex");

async function place(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  await produceAtomically(to, (tmp) => copyFile(from, tmp));
}

/**
 * The `CC=` of a build tree: `ccache gcc` when ccache is installed at the
 * tree's first build, and then whatever the tree was first built with. kbuild
 * rebuilds every object whose command line changed, so ccache appearing or
 * vanishing later must not turn an incremental rebuild into a full one.
 */
async function compilerFor(
  buildDir: string,
  cold: boolean,
  crossCompile: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const file = join(buildDir, "kiln-cc");
  const recorded = cold ? undefined : await readFile(file, "utf8").catch(() => undefined);
  if (recorded !== undefined) {
    const cc = recorded.trim();
    const ccache = cc.split(" ")[0];
    if (cc === "" || (ccache && existsSync(ccache))) return cc || undefined;
  }
  const ccache = which("ccache", env.PATH ?? "");
  const cc = ccache ? `${ccache} ${crossCompile ?? ""}gcc` : "";
  await writeFile(file, `${cc}\n`);
  return cc || undefined;
}

/** Build (or fetch from the cache) the kernel `req` describes. */
export async function buildKernel(req: KernelBuildRequest): Promise<KernelBuildResult> {
  const started = Date.now();
  const reporter = req.reporter ?? silentReporter;
  const env = req.env ?? process.env;
  const facts = ARCH_FACTS[req.arch];
  const toolchain = await toolchainFor(req.arch, env);
  const source = await openKernelSource(req.source, req.arch, req.cacheDir, reporter);
  const root = join(req.cacheDir, "kernel");
  const baseText =
    req.base.kind === "baseline"
      ? `baseline ${BASELINE_REVISION}\n${baselineFragment(req.arch)}`
      : req.base.text;
  const requestKey = sha256([
    "request-1",
    req.configurator ? "configurator" : "make",
    source.digest,
    req.arch,
    baseText,
    ...req.fragments.map((f) => f.text),
    toolchain.identity,
    kilnVersion(),
  ]);
  const requestFile = join(root, "requests", requestKey);
  const out = resolve(req.out);
  const outConfig = `${out}.config`;
  const buildDir = join(root, "build", `${source.digest.slice(0, 16)}-${req.arch}`);
  const logPath = join(buildDir, "kiln-build.log");
  const finish = async (
    key: string,
    cached: boolean,
    extra: Partial<KernelBuildResult>,
  ): Promise<KernelBuildResult> => {
    const dir = join(root, "images", key);
    await place(join(dir, "image"), out);
    await place(join(dir, "config"), outConfig);
    return {
      image: out,
      config: outConfig,
      arch: req.arch,
      version: source.version,
      cached,
      key,
      overrides: [],
      steps: 0,
      logPath,
      buildDir,
      durationMs: Date.now() - started,
      engine: "cache",
      ...extra,
    };
  };
  const known = (await readFile(requestFile, "utf8").catch(() => "")).trim();
  if (known && existsSync(join(root, "images", known, "image"))) {
    reporter.info(`kernel ${known.slice(0, 12)} is cached (same source, configuration, compiler and Kiln)`);
    return finish(known, true, {});
  }

  await mkdir(buildDir, { recursive: true });
  // One build at a time per build tree; a second kiln waits its turn.
  const { default: lockfile } = await import("proper-lockfile");
  const release = await lockfile.lock(buildDir, {
    realpath: false,
    retries: { retries: 3600, minTimeout: 500, maxTimeout: 1000 },
  });
  const log = await openKernelLog(logPath);
  try {
    log.write(
      `\nkiln: kernel build ${new Date().toISOString()} of ${source.given} (${source.version}) for ${req.arch}\n`,
    );
    const progress = reporter.progress(`kernel ${req.arch}`);
    progress.update(
      req.base.kind === "baseline"
        ? "configure: allnoconfig + Kiln's microVM baseline"
        : "configure: olddefconfig",
    );
    // Overrides first: a refused configuration is easier to read after them.
    for (const o of mergeRequest(req.arch, req).overrides) {
      reporter.info(`override: CONFIG_${o.option} ${o.from} (${o.fromSource}) → ${o.to} (${o.toSource})`);
    }
    const configure = req.configurator ?? configureWithMake;
    const configured = await configure(req.arch, req, {
      treeDir: source.dir,
      buildDir,
      log,
      env,
      ...(toolchain.crossCompile ? { crossCompile: toolchain.crossCompile } : {}),
    });
    const key = sha256([
      "kernel-1",
      source.digest,
      req.arch,
      configured.dotconfig,
      toolchain.identity,
      kilnVersion(),
    ]);
    const extra = { overrides: configured.overrides, engine: configured.engine };
    if (existsSync(join(root, "images", key, "image"))) {
      progress.done("cached");
      await mkdir(dirname(requestFile), { recursive: true });
      await writeFile(requestFile, `${key}\n`);
      return await finish(key, true, extra);
    }
    // Kept outside the build tree, so a tree built again from scratch (its build directory
    // removed) still has the total of its last full build.
    const stepsFile = join(root, "steps", `${source.digest.slice(0, 16)}-${req.arch}`);
    const expected = Number(await readFile(stepsFile, "utf8").catch(() => "")) || undefined;
    const cold = !existsSync(join(buildDir, facts.imagePath));
    const cc = await compilerFor(buildDir, cold, toolchain.crossCompile, env);
    const argv = planKernelMake({
      treeDir: source.dir,
      buildDir,
      arch: req.arch,
      ...(toolchain.crossCompile ? { crossCompile: toolchain.crossCompile } : {}),
      ...(cc ? { cc } : {}),
      ...(req.jobs ? { jobs: req.jobs } : {}),
      goals: [facts.target],
    });
    const made = await runKernelMake(argv, {
      log,
      progress,
      // A full build's total means nothing to an incremental one (11 of 1,344 steps after a
      // fragment change), so the percentage is shown only when the whole tree is built again.
      ...(expected && cold ? { expectedSteps: expected } : {}),
      noTotalNote: !cold
        ? "(incremental: rebuilding what the change touches)"
        : expected
          ? "(more steps than the last full build)"
          : "(first build of this tree: total unknown)",
      // Fixed build user, host and timestamp: the same inputs give the same image.
      env: {
        ...env,
        KBUILD_BUILD_USER: "kiln",
        KBUILD_BUILD_HOST: "kiln",
        KBUILD_BUILD_TIMESTAMP: "1970-01-01",
      },
      what: `building ${facts.target} (${req.arch})`,
    });
    if (cold && made.steps > 0) {
      await mkdir(dirname(stepsFile), { recursive: true });
      await writeFile(stepsFile, `${made.steps}\n`);
    }
    const built = join(buildDir, facts.imagePath);
    if (!existsSync(built)) {
      throw new KilnError("KERNEL_BUILD_FAILED", `make finished but ${built} does not exist`, {
        hint: `read the full log: ${logPath}`,
      });
    }
    // make's syncconfig reruns the kernel's own conf on .config: with another engine, a
    // difference means the engines disagree; the image is built from what make left.
    const afterMake = await readFile(join(buildDir, ".config"), "utf8");
    if (afterMake !== configured.dotconfig) {
      reporter.warn(
        `the kernel's conf changed the .config that ${configured.engine} wrote (see ${buildDir}/.config)`,
      );
      log.write(`kiln: warning: make's syncconfig changed the .config written by ${configured.engine}\n`);
    }
    await produceAtomically(join(root, "images", key), async (tmp) => {
      await mkdir(tmp, { recursive: true });
      await copyFile(built, join(tmp, "image"));
      await writeFile(join(tmp, "config"), afterMake);
    }).catch((e: unknown) => {
      // Another kiln stored the same key first: its copy is as good.
      if (!existsSync(join(root, "images", key, "image"))) throw e;
    });
    await mkdir(dirname(requestFile), { recursive: true });
    await writeFile(requestFile, `${key}\n`);
    progress.done(`${made.steps} steps`);
    return await finish(key, false, { ...extra, steps: made.steps });
  } finally {
    await log.close();
    await release();
  }
}
