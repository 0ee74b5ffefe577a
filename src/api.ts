/**
 * The library façade: the common jobs in one call each, with options in
 * numbers and units (`memMiB`, `timeoutMs`), never CLI text.
 *
 * ```ts
 * import { boot, buildRootfs, pack } from "kiln-vm";
 * await pack("rootfs/", "initrd.cpio");
 * const r = await boot({ kernel: "/boot/vmlinuz", initrd: "initrd.cpio", waitFor: /hello/, timeoutMs: 60_000, accel: "tcg" });
 * console.log(r.exitCode, r.matched, r.durationMs);
 * ```
 *
 * `boot` runs the machine in a private, temporary store (it never appears
 * in `kiln ps`) unless `keep: true`, which records it in the user's store
 * under `name`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { KilnError } from "./core/errors.js";
import { type Reporter, silentReporter } from "./core/output.js";
// Type-only imports: the façade loads each job's modules when it is called, so `import "kiln-vm"`
// stays cheap (bench/startup measures it).
import type { BuildRootfsOptions, BuildRootfsResult } from "./image/build.js";
import type { PackCpioOptions, PackCpioResult } from "./image/cpio/pack.js";
import type { BuildOptions, TargetBuildResult } from "./unikraft/build.js";

export interface BootOptions {
  /** A kernel file: Unikraft image, Linux bzImage/vmlinux, arm64 Image. */
  kernel: string;
  /** An initrd file, or a directory packed to CPIO on the fly. */
  initrd?: string;
  /** A disk image attached as the guest's first virtio-blk disk. */
  rootfs?: string;
  /** Guest memory in MiB (default 64 for Unikraft, 256 for Linux). */
  memMiB?: number;
  cpus?: number;
  kernelArgs?: string[];
  appArgs?: string[];
  /** Stop the machine and succeed once the console matches. */
  waitFor?: RegExp;
  /** Stop the machine and throw `RUN_TIMEOUT` after this long. */
  timeoutMs?: number;
  /** Abort: the machine is stopped and `INTERRUPTED` thrown. */
  signal?: AbortSignal;
  /** `tcg` never tries KVM (default `auto`). */
  accel?: "auto" | "tcg";
  /** `none` (default: no network) or `user`. */
  network?: "none" | "user";
  /** Record the machine in the user's store (`kiln ps`), under this name if given. */
  keep?: boolean;
  name?: string;
  env?: NodeJS.ProcessEnv;
  reporter?: Reporter;
}

export interface BootResult {
  /** Everything the guest printed on its console. */
  console: string;
  /** The guest's exit status (0 when `waitFor` matched). */
  exitCode: number;
  /** Why it ended: `powered off`, `--wait-for matched "…"`, `kernel panic …`. */
  reason: string;
  /** What `waitFor` matched. */
  matched?: string;
  durationMs: number;
}

/** Boot a kernel, wait for it to end (or to print `waitFor`), and return its console and exit. */
export async function boot(o: BootOptions): Promise<BootResult> {
  const started = Date.now();
  const privateHome = o.keep ? undefined : await mkdtemp(join(tmpdir(), "kiln-boot-"));
  const env = { ...(o.env ?? process.env), ...(privateHome ? { KILN_HOME: privateHome } : {}) };
  let name: string | undefined;
  let text = "";
  const { planRun } = await import("./orchestration/run-plan.js");
  const { launchMachine, stopMachine, watchMachine } = await import("./machine/launch.js");
  const { followFile } = await import("./machine/console.js");
  try {
    const plan = await planRun({
      target: resolve(o.kernel),
      filter: {},
      cwd: process.cwd(),
      env,
      network: o.network ?? "none",
      envVars: [],
      volumes: [],
      ...(o.initrd !== undefined ? { initrd: o.initrd } : {}),
      ...(o.rootfs !== undefined ? { rootfs: o.rootfs } : {}),
      ...(o.memMiB !== undefined ? { memory: String(o.memMiB) } : {}),
      ...(o.cpus !== undefined ? { cpus: String(o.cpus) } : {}),
      detach: false,
      kernelArgs: o.kernelArgs ?? [],
      appArgs: o.appArgs ?? [],
      publish: [],
      noAccel: o.accel === "tcg",
    });
    const { planPreparation } = await import("./machine/foreground.js");
    const launched = await launchMachine(plan.base, {
      name: o.name,
      driver: plan.driver,
      platform: plan.platform,
      detached: true,
      reporter: o.reporter ?? silentReporter,
      env,
      prepare: planPreparation(plan, { signal: o.signal }),
    });
    name = launched.spec.name;
    const follower = followFile(launched.started.consoleLog, (c) => {
      text += c.toString("utf8");
    });
    const outcome = await watchMachine(name, {
      env,
      waitFor: o.waitFor,
      timeoutMs: o.timeoutMs,
      consoleText: () => text,
      signal: o.signal,
    }).catch((e) => {
      if (e instanceof KilnError && e.code === "INTERRUPTED") return { kind: "interrupted" as const };
      throw e;
    });
    await follower.stop();
    if (outcome.kind === "exited") {
      const r = outcome.record;
      return {
        console: text,
        exitCode: r.exitCode ?? 1,
        reason: r.reason ?? "ended",
        durationMs: Date.now() - started,
      };
    }
    await stopMachine(name, { timeoutMs: 0, env, reason: `stopped: ${outcome.kind}` });
    if (outcome.kind === "matched") {
      return {
        console: text,
        exitCode: 0,
        reason: `--wait-for matched "${outcome.match}"`,
        matched: outcome.match,
        durationMs: Date.now() - started,
      };
    }
    if (outcome.kind === "interrupted") throw new KilnError("INTERRUPTED", `boot of ${o.kernel} was aborted`);
    throw new KilnError(
      "RUN_TIMEOUT",
      `${o.kernel} ran for ${o.timeoutMs} ms without ${o.waitFor ? `its console matching ${o.waitFor}` : "exiting"}`,
      {
        details: ["last console lines:", ...outcome.lastLines.split("\n").map((l) => `  | ${l}`)],
      },
    );
  } finally {
    // A private store goes with its machine: stopped (if an error left it running) and removed.
    if (privateHome) {
      if (name) await stopMachine(name, { timeoutMs: 0, env }).catch(() => {});
      await rm(privateHome, { recursive: true, force: true });
    }
  }
}

/** Build a project's Unikraft targets (`kiln build`): the project directory and {@link BuildOptions}. */
export async function build(
  projectDir: string,
  opts: BuildOptions & { kraftfile?: string } = {},
): Promise<TargetBuildResult[]> {
  const { loadProject } = await import("./kraftfile/load.js");
  const { buildProjectWithEngine } = await import("./orchestration/unikraft-config.js");
  const { project } = await loadProject(resolve(projectDir), {
    ...(opts.kraftfile ? { kraftfile: opts.kraftfile } : {}),
    env: opts.env ?? process.env,
  });
  return buildProjectWithEngine(project, opts);
}

/** Pack a directory into a CPIO archive (an initrd), atomically. */
export async function pack(
  dir: string,
  output: string,
  opts: Omit<PackCpioOptions, "sourceDir" | "output"> = {},
): Promise<PackCpioResult> {
  const { packCpio } = await import("./image/cpio/pack.js");
  return packCpio({ ...opts, sourceDir: dir, output });
}

/** Build a root filesystem image (`kiln rootfs build`): a directory, archive, image reference or `debian:SUITE`. */
export async function buildRootfs(
  source: string,
  output: string,
  opts: Omit<BuildRootfsOptions, "source" | "output"> = {},
): Promise<BuildRootfsResult> {
  const { buildRootfs: buildRootfsImpl } = await import("./image/build.js");
  return buildRootfsImpl({ ...opts, source, output });
}
