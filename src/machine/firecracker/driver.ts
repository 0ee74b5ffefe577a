/**
 * The Firecracker {@link VmmDriver}: maps a {@link MachineSpec} to Firecracker's
 * API ({@link firecrackerVmSpecFor}, pure), refuses what Firecracker cannot do
 * (9p volumes, user-mode port forwards, compressed or Multiboot kernels) with
 * the QEMU alternative named, and runs the process (`process.ts`).
 */

import { accessSync, constants, existsSync } from "node:fs";
import { join } from "node:path";
import { KilnError } from "../../core/errors.js";
import { which } from "../../core/exec.js";
import type { GuestExit, MachineSpec, StartedMachine, StartOptions, VmmDriver } from "../driver.js";
import { linuxIpArg } from "../guest-address.js";
import { networkDeviceFor, tapNameFor } from "../network.js";
import { kernelCommandLine, rootfsReadOnly } from "../qemu/argv.js";
import { INSTANCE_FILES } from "../supervise.js";
import { elfHasPvhNote } from "./elf-notes.js";
import { FIRECRACKER_DEFAULT_BOOT_ARGS, type FirecrackerVmSpec } from "./plan.js";
import { FIRECRACKER_FILES, launchFirecracker, stopFirecracker } from "./process.js";

const USE_QEMU = "`--vmm qemu` runs the same machine on QEMU (no root, no KVM needed)";

function unsupported(message: string): KilnError {
  return new KilnError("VMM_UNSUPPORTED", message, { hint: USE_QEMU });
}

/** Quote a kernel-command-line value if it has spaces (the kernel honours `"…"`). */
function kq(value: string): string {
  return /\s/.test(value) ? `"${value}"` : value;
}

/**
 * The kernel command line Firecracker gets. Linux guests: Firecracker's usual
 * `console=ttyS0 reboot=k panic=1 pci=off` (a key the user set wins), the
 * user's arguments, the environment as `K=V` words (handed to init), then
 * `-- app args`. Firecracker itself appends `root=/dev/vda rw` for the root
 * drive. Unikraft guests use the same syntax as on QEMU (uklibparam).
 */
export function firecrackerBootArgs(spec: MachineSpec): string {
  if (spec.guest === "unikraft") return kernelCommandLine(spec);
  const has = (key: string) => spec.kernelArgs.some((a) => a === key || a.startsWith(`${key}=`));
  const out = FIRECRACKER_DEFAULT_BOOT_ARGS.split(" ").filter((a) => !has(a.split("=")[0]!));
  if (spec.guestIp && !has("ip")) out.push(linuxIpArg(spec.guestIp));
  out.push(...spec.kernelArgs);
  for (const [k, v] of Object.entries(spec.env)) out.push(`${k}=${kq(v)}`);
  if (spec.appArgs.length > 0) out.push("--", ...spec.appArgs.map(kq));
  return out.join(" ");
}

/**
 * Check that Firecracker can run `spec` at all (pure). Throws
 * `VMM_UNSUPPORTED` naming `--vmm qemu` for what only QEMU offers.
 */
export function checkFirecrackerSupport(spec: MachineSpec): void {
  if (spec.kernelKind === "bzimage") {
    throw unsupported(
      `Firecracker boots an uncompressed vmlinux (ELF) on x86_64, and ${spec.kernel} is a compressed bzImage`,
    );
  }
  if (spec.kernelKind === "multiboot") {
    throw unsupported(
      `${spec.kernel} is a Multiboot image (Unikraft's qemu platform); Firecracker needs the target built for platform fc`,
    );
  }
  if (spec.volumes.length > 0) {
    throw unsupported(
      `Firecracker has no shared-folder device (9p), and ${spec.volumes.length} volume(s) were given`,
    );
  }
  if (spec.ports.length > 0) {
    throw unsupported(
      `Firecracker has no user-mode networking, so port forwards (-p ${spec.ports[0]!.hostPort}:${spec.ports[0]!.guestPort}) cannot work`,
    );
  }
}

/**
 * Firecracker's `--id` for a machine name: Firecracker accepts only letters,
 * digits and `-`, 1 to 64 characters (its `validate_instance_id`), while Kiln
 * names such as `odd_wick` have underscores.
 */
export function instanceIdFor(name: string): string {
  return name.replace(/[^A-Za-z0-9-]/g, "-").slice(0, 64) || "kiln";
}

/** The Firecracker configuration for a machine spec in `instanceDir` (pure). */
export function firecrackerVmSpecFor(spec: MachineSpec, instanceDir: string): FirecrackerVmSpec {
  checkFirecrackerSupport(spec);
  return {
    kernelPath: spec.kernel,
    ...(spec.initrd ? { initrdPath: spec.initrd } : {}),
    bootArgs: firecrackerBootArgs(spec),
    vcpuCount: spec.cpus,
    memMiB: spec.memMiB,
    drives: [
      ...(spec.rootfs
        ? [{ id: "rootfs", pathOnHost: spec.rootfs, isRoot: true, readOnly: rootfsReadOnly(spec) }]
        : []),
      // firectl names its --add-drive drives 1, 2…; Kiln's ids say what they are.
      ...(spec.drives ?? []).map((d, i) => ({
        id: `drive${i + 1}`,
        pathOnHost: d.path,
        isRoot: false,
        readOnly: d.readOnly,
      })),
    ],
    networkInterfaces:
      spec.network === "tap" || spec.network === "bridge"
        ? [{ id: "eth0", hostDevName: networkDeviceFor(spec), ...(spec.mac ? { guestMac: spec.mac } : {}) }]
        : [],
    logger: { logPath: join(instanceDir, FIRECRACKER_FILES.log), level: "Warning" },
    metrics: { metricsPath: join(instanceDir, FIRECRACKER_FILES.metrics) },
    // Firecracker's vsock is its own (no vhost): guest ports are reached through
    // this Unix socket, which Firecracker creates; see `vsockSocketFor`.
    ...(spec.vsock
      ? {
          vsock: {
            guestCid: spec.vsock.guestCid,
            udsPath: spec.vsock.hostPath ?? vsockSocketFor(instanceDir),
          },
        }
      : {}),
  };
}

/**
 * The host side of a Firecracker machine's vsock: `<instanceDir>/vsock.sock`.
 * Per Firecracker's docs/vsock.md, a host program connects to it and sends
 * `CONNECT <port>\n`; Firecracker answers `OK <host port>\n` once a guest
 * program listening on that AF_VSOCK port accepted, and the connection then
 * carries the stream. Guest-initiated connections to port P go to a Unix
 * socket the host program listens on at `<instanceDir>/vsock.sock_P`.
 */
export function vsockSocketFor(instanceDir: string): string {
  return join(instanceDir, FIRECRACKER_FILES.vsock);
}

export interface FirecrackerDriverOptions {
  /** `api` (default) or `config-file`. */
  mode?: "api" | "config-file";
}

/** Create a Firecracker driver. */
export function createFirecrackerDriver(options: FirecrackerDriverOptions = {}): VmmDriver {
  const available = async (spec: MachineSpec, env: NodeJS.ProcessEnv = process.env): Promise<string> => {
    const given = spec.firecracker?.binary;
    if (given !== undefined) {
      try {
        accessSync(given, constants.X_OK);
      } catch (e) {
        throw new KilnError("TOOL_MISSING", `--firecracker-binary ${given} is not an executable file`, {
          hint: "give the path of a firecracker release binary, or leave the flag out to use the one on PATH",
          cause: e,
        });
      }
    }
    const bin = given ?? which("firecracker", env.PATH ?? "");
    if (!bin) {
      // The QEMU alternative only holds if QEMU can load the image: Unikraft's
      // fc images (no PVH note) need the project's qemu target instead.
      const qemuCannot =
        spec.kernelKind === "elf" &&
        spec.architecture === "x86_64" &&
        (await elfHasPvhNote(spec.kernel).catch(() => undefined)) === false;
      const alternative = qemuCannot
        ? "this image has no PVH entry note, so QEMU cannot boot it either: build and run the project's qemu target (--plat qemu)"
        : USE_QEMU;
      throw new KilnError(
        "TOOL_MISSING",
        "firecracker not found on PATH (needed to run machines with --vmm firecracker)",
        {
          hint: `${alternative}; or install Firecracker (https://github.com/firecracker-microvm/firecracker/releases) and put it on PATH`,
        },
      );
    }
    checkFirecrackerSupport(spec);
    if (spec.network === "tap" || spec.network === "bridge") {
      const tap = networkDeviceFor(spec);
      if (!existsSync(`/sys/class/net/${tap}`)) {
        throw new KilnError(
          "NETWORK_PRIVILEGES",
          `--network ${spec.network} with Firecracker needs the tap device ${tap}, which does not exist; creating one requires CAP_NET_ADMIN and Kiln does not do it`,
          { hint: `as root: ip tuntap add ${tap} mode tap && ip link set ${tap} up; or use --network none` },
        );
      }
    }
    return bin;
  };
  return {
    name: "firecracker",
    async available(spec: MachineSpec): Promise<void> {
      await available(spec);
    },
    async start(spec: MachineSpec, instanceDir: string, opts: StartOptions = {}): Promise<StartedMachine> {
      const env = { ...process.env, ...opts.env };
      const bin = await available(spec, env);
      const fc = firecrackerVmSpecFor(spec, instanceDir);
      const launched = await launchFirecracker(fc, instanceDir, {
        binary: bin,
        mode: options.mode ?? "api",
        env,
        id: instanceIdFor(spec.name),
        ...(spec.firecracker?.apiSocket !== undefined ? { apiSocket: spec.firecracker.apiSocket } : {}),
      });
      return {
        pid: launched.pid,
        consoleLog: join(instanceDir, INSTANCE_FILES.consoleLog),
        // Firecracker always runs on KVM; there is no TCG fallback.
        accel: "kvm",
        argv: launched.argv,
      };
    },
    async stop(instanceDir: string, pid: number, opts: { timeoutMs: number }): Promise<void> {
      await stopFirecracker(instanceDir, pid, opts);
    },
    guestExit(status, consoleTail): GuestExit {
      return firecrackerGuestExit(status, consoleTail);
    },
  };
}

/**
 * How the guest ended. Firecracker exits 0 whenever the guest resets (with
 * `reboot=k`, a Linux `reboot`/`poweroff` and a `panic=1` panic both end as an
 * i8042 reset), so the console decides between a clean end and a panic.
 */
export function firecrackerGuestExit(
  status: { exitCode: number | null; signal: string | null },
  consoleTail: string,
): GuestExit {
  if (/Kernel panic - not syncing/.test(consoleTail)) return { exitCode: 1, reason: "kernel panic" };
  if (status.signal)
    return { exitCode: 128 + (status.signal === "SIGKILL" ? 9 : 15), reason: `killed by ${status.signal}` };
  if (status.exitCode === 0) return { exitCode: 0, reason: "powered off" };
  return { exitCode: status.exitCode ?? 1, reason: `firecracker exited with code ${status.exitCode}` };
}

/** The Firecracker driver with default options (API socket mode). */
export const firecrackerDriver: VmmDriver = createFirecrackerDriver();

export { tapNameFor };
