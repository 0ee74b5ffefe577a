/**
 * `kiln run`'s plan: from the flags' text to a checked {@link MachineSpec}
 * (the {@link RunPlan} the machine domain launches). Orchestration: it reads
 * a project's Kraftfile and built targets and sniffs image formats, then
 * plans with the machine domain's parsers and drivers. It resolves the target (a kernel file, or a project's built target), reads the
 * kernel's kind, merges the project's `cmd`/`env`/`volumes` with the flags,
 * and reports bad values and missing inputs before anything starts.
 */

import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { KilnError, usageError } from "../core/errors.js";
import { fileTypeName } from "../core/fs.js";
import { parseMemMiB } from "../core/units.js";
import { type ImageFormat, sniffImageFormat } from "../image/sniff.js";
import { readAccelSetting } from "../machine/accel-setting.js";
import type { MachineSpec } from "../machine/driver.js";
import { getDriver } from "../machine/drivers.js";
import { parseGuestIp, parseMac } from "../machine/guest-address.js";
import { detectKernel } from "../machine/kernel-detect.js";
import { parseNetworkOption } from "../machine/network.js";
import { qemuDriver } from "../machine/qemu/driver.js";
import type { RunPlan } from "../machine/run-plan-types.js";
import { parseDrive, parseEnvVar, parsePortForward, parseVolume } from "../machine/spec.js";
import { readImageConfig, unikraftImageFacts } from "../machine/unikraft-image.js";
import { fitUnikraftRun } from "../machine/unikraft-run.js";
import { checkQemuVsock, parseVsockCid, VHOST_VSOCK_DEVICE } from "../machine/vsock.js";
// project-run.js (and the Kraftfile reader behind it) is imported only for a
// project run: start-up time is part of every boot (see bench/boot).
import type { ProjectRun } from "./project-run.js";

export type { RunPlan };

/** What `kiln run` boots: a kernel file, or a project's built target. */
export interface RunTarget {
  kernel: string;
  initrd: string | undefined;
  project: ProjectRun | undefined;
}

/** Project target filters (`-t`, `--plat`, `-m`, `-K`). */
export interface RunTargetFilter {
  target?: string;
  platform?: string;
  arch?: string;
  kraftfile?: string;
}

/** `kiln run`'s flags as given (text, before checking). */
export interface RunRequest {
  /** The `KERNEL|DIR` positional; the project in `cwd` when absent. */
  target?: string;
  filter: RunTargetFilter;
  cwd: string;
  env: NodeJS.ProcessEnv;
  network?: string;
  /** `--allow-host-loopback`: the user-mode guest may connect out, to the host's loopback too. */
  allowHostLoopback?: boolean;
  qemuMachine?: string;
  vmm?: string;
  /** `-e K=V` (or `K`, read from `env`). */
  envVars: string[];
  /** `-v SRC:DST[:ro]`. */
  volumes: string[];
  initrd?: string;
  rootfs?: string;
  memory?: string;
  cpus?: string;
  timeout?: string;
  waitFor?: string;
  detach: boolean;
  kernelArgs: string[];
  /** Arguments after `--`; the project's `cmd` when empty. */
  appArgs: string[];
  /** `-p [IP:]HOST:GUEST[/tcp|udp]`. */
  publish: string[];
  noAccel: boolean;
  /** `--vsock CID`: a virtio-vsock device with this guest CID. */
  vsock?: string;
  /** `--vsock-path PATH`: the host side of a Firecracker vsock (needs `--vsock`). */
  vsockPath?: string;
  /** `--add-drive PATH[:ro|:rw]` (firectl's flag): extra disks. */
  drives?: string[];
  /** `--firecracker-binary PATH`. */
  firecrackerBinary?: string;
  /** `--socket-path PATH`: Firecracker's API socket. */
  socketPath?: string;
  /** kraft's `--ip ADDR[/PREFIX][:GW[:DNS0[:DNS1]]]`. */
  ip?: string;
  /** kraft's `--mac`. */
  mac?: string;
}

/** What `--rootfs` can sensibly be: a filesystem image or a partitioned disk. */
const DISK_FORMATS = new Set<ImageFormat>(["ext4", "erofs", "squashfs", "xfs", "partitioned"]);

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A bound on `--cpus` that stops absurd values (a 20-digit count) in Kiln; below it, QEMU
 * explains its own per-machine limit (`pc` allows 255, `q35` 288), naming the machine.
 */
const MAX_CPUS = 4096;
/** Largest `-M`: 16 TiB, far above any host, yet an exact integer QEMU reads (not `1.024e+33M`). */
const MAX_MEM_MIB = 16 * 1024 * 1024;

function positiveInt(text: string, what: string, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max)
    throw usageError(`${what} must be a whole number from 1 to ${max}; got "${text}"`);
  return Number(text);
}

/** `-M`: a size (bare number = MiB) from 1 MiB to {@link MAX_MEM_MIB}. */
function memoryMiB(text: string): number {
  const mib = parseMemMiB(text);
  if (!Number.isSafeInteger(mib) || mib > MAX_MEM_MIB)
    throw usageError(`-M "${text}" is more than ${MAX_MEM_MIB / 1024 / 1024} TiB`, "e.g. -M 512M or -M 2G");
  return mib;
}

/** `--firecracker-binary` and `--socket-path`, resolved against `cwd`. */
function firecrackerOptions(req: RunRequest): Pick<MachineSpec, "firecracker"> {
  const fc = {
    ...(req.firecrackerBinary !== undefined ? { binary: resolve(req.cwd, req.firecrackerBinary) } : {}),
    ...(req.socketPath !== undefined ? { apiSocket: resolve(req.cwd, req.socketPath) } : {}),
  };
  return Object.keys(fc).length > 0 ? { firecracker: fc } : {};
}

/**
 * Flags that only mean something to Firecracker (firectl's), refused on QEMU
 * with the reason, and `--vsock-path` without the device it names.
 */
function checkVmmOnlyFlags(req: RunRequest, vmm: string): void {
  if (req.vsockPath !== undefined && req.vsock === undefined) {
    throw usageError("--vsock-path names the host side of a vsock device: add --vsock CID");
  }
  if (vmm === "firecracker") return;
  const given: [string, string | undefined, string][] = [
    ["--firecracker-binary", req.firecrackerBinary, "it picks the Firecracker program"],
    ["--socket-path", req.socketPath, "QEMU's control socket is qmp.sock in the machine's directory"],
    [
      "--vsock-path",
      req.vsockPath,
      "QEMU's vsock goes through the host kernel (vhost-vsock): host programs connect with AF_VSOCK, not a Unix socket",
    ],
  ];
  for (const [flag, value, why] of given) {
    if (value !== undefined)
      throw usageError(`${flag} applies to --vmm firecracker only, and this run uses ${vmm}: ${why}`);
  }
}

/**
 * A kernel file, or (for a directory, or no argument) the project's chosen
 * built target; throws `TARGET_AMBIGUOUS`, `TARGET_NOT_FOUND`, `NOT_BUILT`.
 */
export async function resolveRunTarget(
  arg: string | undefined,
  cwd: string,
  filter: RunTargetFilter,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunTarget> {
  const path = arg === undefined ? cwd : resolve(cwd, arg);
  if (arg === undefined || isDir(path)) {
    const { projectRun } = await import("./project-run.js");
    const pr = await projectRun(path, filter, env);
    return { kernel: pr.kernel, initrd: pr.initrd, project: pr };
  }
  return { kernel: path, initrd: undefined, project: undefined };
}

/** Check `kiln run`'s flags and build its spec; throws `USAGE` or `INPUT_NOT_FOUND` before anything starts. */
export async function planRun(req: RunRequest): Promise<RunPlan> {
  const t = await resolveRunTarget(req.target, req.cwd, req.filter, req.env);
  // A project's target names its configuration (`<project>/.config.<target>`, as kiln build keeps it).
  const projectConfig = t.project
    ? join(t.project.project.dir, `.config.${t.project.target.name}`)
    : undefined;
  const info = await detectKernel(t.kernel, projectConfig ? { config: projectConfig } : {});
  const imageConfig = info.guest === "unikraft" ? await readImageConfig(t.kernel, projectConfig) : undefined;
  const project = t.project?.project;
  const { network, networkDevice } = parseNetworkOption(req.network ?? "user");
  const qm = req.qemuMachine;
  if (qm !== undefined && !["pc", "q35", "microvm"].includes(qm))
    throw usageError(`--qemu-machine must be pc, q35 or microvm; got "${qm}"`);
  const vmmName = req.vmm ?? (t.project?.target.platform === "firecracker" ? "firecracker" : "qemu");
  const driver = vmmName === "qemu" ? qemuDriver({ machine: qm as "pc" | undefined }) : getDriver(vmmName);
  const env: Record<string, string> = { ...(project?.env ?? {}) };
  for (const e of req.envVars) {
    const [k, v] = parseEnvVar(e, req.env);
    env[k] = v;
  }
  const volumes = [
    ...(project?.volumes ?? []).map((v, i) => ({
      hostPath: v.source,
      guestPath: v.destination,
      readonly: v.readonly,
      tag: `fs${i}`,
    })),
  ];
  for (const v of req.volumes) volumes.push(parseVolume(v, req.cwd, volumes.length));
  const initrdPath = req.initrd === undefined ? t.initrd : resolve(req.cwd, req.initrd);
  let initrdDir = initrdPath !== undefined && isDir(initrdPath) ? initrdPath : undefined;
  let rootfsDir: string | undefined;
  const timeoutMs = req.timeout === undefined ? undefined : Number(req.timeout) * 1000;
  if (timeoutMs !== undefined && !(timeoutMs > 0))
    throw usageError(`--timeout must be a positive number of seconds; got "${req.timeout}"`);
  // RE2's engine (re2js, ~270 KB) loads only for a --wait-for: start-up is part of every boot.
  const waitFor =
    req.waitFor === undefined
      ? undefined
      : new (await import("../machine/wait-pattern.js")).WaitForPattern(req.waitFor);
  if (req.detach && (waitFor !== undefined || timeoutMs !== undefined)) {
    throw usageError("--wait-for and --timeout watch a foreground run; they cannot be combined with -d");
  }
  const base: Omit<MachineSpec, "name"> = {
    kernel: t.kernel,
    kernelKind: info.kind,
    guest: info.guest,
    architecture: info.architecture,
    memMiB: req.memory !== undefined ? memoryMiB(req.memory) : info.guest === "linux" ? 256 : 64,
    cpus: positiveInt(req.cpus ?? "1", "--cpus", MAX_CPUS),
    kernelArgs: req.kernelArgs,
    // `-- args`, else the target's own command (Kraftfile v0.5 `command`), else the project's `cmd`.
    appArgs: req.appArgs.length > 0 ? req.appArgs : (t.project?.target.cmd ?? project?.cmd ?? []),
    env,
    ...(initrdPath !== undefined && !initrdDir ? { initrd: initrdPath } : {}),
    ...(req.rootfs !== undefined ? { rootfs: resolve(req.cwd, req.rootfs) } : {}),
    volumes,
    ports: req.publish.map(parsePortForward),
    network,
    ...(networkDevice !== undefined ? { networkDevice } : {}),
    ...(req.allowHostLoopback ? { allowHostLoopback: true } : {}),
    // -W wins; else KILN_ACCEL or the config file pins it (accel-setting.ts); else auto.
    accel: req.noAccel ? "tcg" : (await readAccelSetting(req.env)).request,
    ...(req.vsock !== undefined
      ? {
          vsock: {
            guestCid: parseVsockCid(req.vsock),
            ...(req.vsockPath !== undefined ? { hostPath: resolve(req.cwd, req.vsockPath) } : {}),
          },
        }
      : {}),
    ...((req.drives ?? []).length > 0 ? { drives: req.drives!.map((d) => parseDrive(d, req.cwd)) } : {}),
    ...firecrackerOptions(req),
    ...(req.mac !== undefined ? { mac: parseMac(req.mac) } : {}),
    ...(req.ip !== undefined ? { guestIp: parseGuestIp(req.ip, network) } : {}),
  };
  if (req.mac !== undefined && network === "none") {
    throw usageError("--mac sets the guest NIC's address, and --network none gives it none");
  }
  checkVmmOnlyFlags(req, driver.name);
  // A Unikraft image's own configuration decides 9p tags and whether it gets a NIC.
  const warnings: string[] = [];
  if (imageConfig) {
    const fit = fitUnikraftRun(base.volumes, unikraftImageFacts(imageConfig.config), {
      network: base.network,
      networkGiven: req.network !== undefined,
      portCount: base.ports.length,
      configPath: imageConfig.path,
    });
    base.volumes = fit.volumes;
    base.network = fit.network;
    warnings.push(...fit.warnings);
  }
  // QEMU's vsock is the host kernel's (vhost): without the module, say so before anything starts.
  if (base.vsock && driver.name === "qemu") checkQemuVsock(existsSync(VHOST_VSOCK_DEVICE));
  if (req.allowHostLoopback && network !== "user") {
    throw usageError(
      `--allow-host-loopback applies to the user-mode network only; got --network ${req.network}`,
    );
  }
  if (base.ports.length > 0 && network === "none") {
    throw usageError(
      "-p forwards ports over the user-mode network; it cannot be combined with --network none",
    );
  }
  // Missing inputs are reported before anything starts (QEMU would only say "could not load").
  const inputs: [string, string | undefined][] = [
    ["--initrd", initrdPath],
    ["--rootfs", base.rootfs],
    ...(base.drives ?? []).map((d): [string, string] => ["--add-drive", d.path]),
    ...base.volumes.map((v): [string, string] => ["-v", v.hostPath]),
  ];
  for (const [flag, path] of inputs) {
    if (path !== undefined && !existsSync(path)) {
      throw new KilnError("INPUT_NOT_FOUND", `${flag} ${path} does not exist`, {
        hint: flag === "-v" ? "create the host directory first, or fix the path" : "check the path",
      });
    }
    // A FIFO or a socket would block or fail inside QEMU (issue 9): name it here instead.
    const st = path === undefined ? undefined : statSync(path);
    const ok =
      !st ||
      (flag === "-v"
        ? st.isDirectory()
        : flag === "--add-drive"
          ? st.isFile() || st.isBlockDevice()
          : st.isFile() || st.isDirectory() || (flag === "--rootfs" && st.isBlockDevice()));
    if (path !== undefined && st && !ok) {
      throw new KilnError(
        "INPUT_NOT_IMAGE",
        `${flag} ${path} is ${fileTypeName(st)}, not ${flag === "-v" ? "a directory" : "a file"}`,
        {
          hint: flag === "-v" ? "share a directory with -v" : "give a regular file",
        },
      );
    }
  }
  // `--rootfs` takes what `kraft run --rootfs` takes (issue 16): a directory or a CPIO archive is a
  // root *tree*, not a disk. Unikraft gets it as its initrd, as kraft does; a Linux guest gets a
  // directory as an ext4 image built at launch, and a CPIO (or gzip) archive as its initramfs. Only a
  // disk image is attached as a disk (a CPIO on /dev/vda made Linux panic: "Unable to mount root fs").
  if (base.rootfs !== undefined) {
    const given = base.rootfs;
    const dir = isDir(given);
    const archive = dir ? undefined : await sniffImageFormat(given);
    if (dir || archive === "cpio" || archive === "gzip") {
      const what = dir
        ? "a directory"
        : archive === "cpio"
          ? "a CPIO archive"
          : "a gzip archive (an initramfs)";
      if (dir && info.guest === "linux") {
        rootfsDir = given;
      } else {
        if (initrdPath !== undefined) {
          throw usageError(
            `--rootfs ${given} is ${what}, which the guest gets as its initrd, and --initrd ${initrdPath} is given too`,
            "give one of them; a disk image (ext4, EROFS) as --rootfs is attached as a disk beside an initrd",
          );
        }
        if (dir) initrdDir = given;
        else base.initrd = given;
      }
      delete base.rootfs;
    }
  }
  // A read-only filesystem gets a read-only disk, whatever the file is called.
  if (base.rootfs !== undefined) {
    const format = await sniffImageFormat(base.rootfs);
    base.rootfsReadOnly = format === "erofs";
    if (!DISK_FORMATS.has(format)) {
      warnings.push(
        `--rootfs ${base.rootfs} does not look like a disk image (${format === "unknown" ? "no filesystem or partition table Kiln knows" : `a ${format} archive`}); the guest gets it as a writable disk`,
      );
    }
  }
  return {
    base,
    driver,
    platform: t.project?.target.platform ?? driver.name,
    ...(initrdDir !== undefined ? { initrdDir } : {}),
    ...(rootfsDir !== undefined ? { rootfsDir } : {}),
    ...(waitFor !== undefined ? { waitFor } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    detach: req.detach,
    warnings,
  };
}
