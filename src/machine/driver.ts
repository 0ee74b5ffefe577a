/**
 * The contract between `kiln run` (and the instance store) and a VMM driver
 * (QEMU in `qemu/`, Firecracker in `firecracker/`). Kiln plans *what* to run
 * as a {@link MachineSpec}; a {@link VmmDriver} turns it into a running VMM
 * process inside an instance directory and knows how to stop it.
 *
 * Conventions every driver follows, so `kiln ps/logs/stop/rm` work the same
 * whatever the VMM:
 * - the guest console's output is appended to `<instanceDir>/console.log`
 *   (also when detached, so `kiln logs` works after Kiln exits);
 * - when the driver can forward input, it offers a FIFO (`consoleInput`):
 *   bytes written to it are guest input (QEMU's `-chardev pipe`), read by the
 *   VMM only when the guest's UART can take them;
 * - the VMM runs in its own session (it survives `kill -9` of Kiln), and its
 *   exit status is recorded in `<instanceDir>/exit-status` by the supervisor
 *   (`supervise.ts`), so a detached machine's end is known later;
 * - control sockets are created mode 0600 inside the instance directory.
 */
import type { Reporter } from "../core/output.js";
import type { GuestIp } from "./guest-address.js";
import type { SupervisorWatch } from "./supervise.js";

/** What kind of kernel image a file is (see `kernel-detect.ts`). */
export type KernelKind =
  /** An ELF image with a Multiboot (v1) header: Unikraft's KVM x86_64 images. */
  | "multiboot"
  /** A Linux x86 boot image (`bzImage`, the `vmlinuz` distributions ship). */
  | "bzimage"
  /** An uncompressed ELF kernel without a Multiboot header (`vmlinux`, PVH). */
  | "elf"
  /** A Linux arm64 `Image` (magic `ARM\x64` at offset 56). */
  | "arm64-image";

/** Guest architecture. */
export type MachineArch = "x86_64" | "arm64";

/** What runs inside: decides kernel-argument syntax (app args, env, fstab). */
export type GuestKind = "unikraft" | "linux";

/** A host directory shared with the guest over 9p (virtio-9p). */
export interface VolumeSpec {
  /** Absolute host path. */
  hostPath: string;
  /** Mount point in the guest. */
  guestPath: string;
  readonly: boolean;
  /** 9p mount tag (`fs0`, `fs1`, …); Linux guests mount it with `-t 9p -o trans=virtio <tag>`. */
  tag: string;
  /** The user chose the tag (`-v SRC:DST:tag=NAME`): Kiln keeps it. */
  tagGiven?: boolean;
  /** A Unikraft image mounts this one itself (its configured root): no `vfs.fstab` entry. */
  automounted?: boolean;
}

/** A host port forwarded to the guest (user-mode networking `hostfwd`). */
export interface PortForward {
  /** Host address to bind; `127.0.0.1` unless the user gave one. */
  hostIp: string;
  hostPort: number;
  guestPort: number;
  protocol: "tcp" | "udp";
}

/**
 * Guest networking: `user` (slirp user-mode, no privileges, port forwards
 * work), `none` (no NIC), `tap` (an existing tap device) or `bridge` (through
 * QEMU's setuid bridge helper); creating those needs CAP_NET_ADMIN, which Kiln
 * never asks for: see `network.ts`.
 */
export type NetworkMode = "user" | "none" | "tap" | "bridge";

/** Acceleration wanted: `auto` tries KVM and falls back to TCG; `tcg` is `-W`. */
export type AccelRequest = "auto" | "kvm" | "tcg";

/** Everything a driver needs to start one machine. Paths are absolute. */
export interface MachineSpec {
  /** Unique machine name (the instance directory's name). */
  name: string;
  kernel: string;
  kernelKind: KernelKind;
  guest: GuestKind;
  architecture: MachineArch;
  memMiB: number;
  cpus: number;
  /** Kernel command-line arguments (before any `--` app arguments). */
  kernelArgs: string[];
  /** Application arguments (Unikraft: after `--` on the command line; Linux: passed to init). */
  appArgs: string[];
  /** Environment for the application (Unikraft: `env.vars`; Linux: init's environment). */
  env: Record<string, string>;
  /** An initrd file (CPIO, possibly gzipped). */
  initrd?: string;
  /** A root filesystem image attached as the first virtio-blk disk (`/dev/vda`). */
  rootfs?: string;
  /**
   * Attach `rootfs` read-only (and boot with `ro`). `planRun` sets it from the
   * image's content: true for EROFS, false otherwise.
   */
  rootfsReadOnly?: boolean;
  /**
   * Extra disks (`--add-drive PATH[:ro|:rw]`, firectl's flag), attached after
   * `rootfs` in order: `/dev/vdb`, `/dev/vdc`… (`/dev/vda`… without a root).
   */
  drives?: DriveSpec[];
  volumes: VolumeSpec[];
  ports: PortForward[];
  network: NetworkMode;
  /** Host device for `tap` (default `kt-<name>`) or the bridge for `bridge` (default `br0`). */
  networkDevice?: string;
  /**
   * `user` network only: let the guest open connections itself, to the host's
   * loopback services (through 10.0.2.2) and beyond. Off by default: QEMU's
   * `restrict=on`, so only forwarded ports (`-p`) connect host and guest.
   */
  allowHostLoopback?: boolean;
  accel: AccelRequest;
  /**
   * A virtio-vsock device with this guest CID (`--vsock`; 3 to 2^32 - 2, see
   * `vsock.ts`). Firecracker bridges it to `<instanceDir>/vsock.sock`; QEMU
   * needs the host's `/dev/vhost-vsock`.
   */
  vsock?: {
    guestCid: number;
    /**
     * Firecracker: the host-side Unix socket (firectl's `--vsock-device
     * PATH:CID`); default `<instanceDir>/vsock.sock`. QEMU's vhost-vsock has none.
     */
    hostPath?: string;
  };
  /** The guest NIC's MAC address (`--mac`, lower case, `:`-separated); the VMM's default when absent. */
  mac?: string;
  /** A static address for the guest (`--ip`): passed on its command line (see `guest-address.ts`). */
  guestIp?: GuestIp;
  /** Firecracker only: the binary (`--firecracker-binary`) and the API socket (`--socket-path`). */
  firecracker?: { binary?: string; apiSocket?: string };
}

/** An extra block device (virtio-blk), raw format. */
export interface DriveSpec {
  /** Absolute host path of the image (or block device). */
  path: string;
  /** Attach read-only (QEMU `readonly=on`, Firecracker `is_read_only`). */
  readOnly: boolean;
}

/** Options for {@link VmmDriver.start}. */
export interface StartOptions {
  reporter?: Reporter;
  /** Extra environment for the VMM process. */
  env?: NodeJS.ProcessEnv;
  /** Foreground runs: what the supervisor ends the VMM on when the client cannot (supervise.ts). */
  watch?: SupervisorWatch;
}

/** A started machine, as recorded in the instance store. */
export interface StartedMachine {
  /** The VMM's process id (QEMU or Firecracker), used to stop it. */
  pid: number;
  /** Append-only log of the guest console (`<instanceDir>/console.log`). */
  consoleLog: string;
  /** The console's input FIFO (see the module comment), when the driver has one. */
  consoleInput?: string;
  /** Acceleration actually used. */
  accel: "kvm" | "tcg";
  /** The VMM command line, for `kiln inspect` and error messages. */
  argv: string[];
}

/** How the guest ended, derived from the VMM's exit status and the console log. */
export interface GuestExit {
  /** Exit code for `kiln run` (0 = success). */
  exitCode: number;
  /** One-line human reason: `powered off`, `kernel panic`, `exited with code 3`. */
  reason: string;
}

/** A VMM driver. Implementations: `qemuDriver`, `firecrackerDriver`. */
export interface VmmDriver {
  /** `qemu` or `firecracker` (the `--vmm` value). */
  readonly name: string;
  /**
   * Resolve when this driver can run `spec` on this host; otherwise throw a
   * KilnError (`TOOL_MISSING`, `VMM_UNSUPPORTED`, …) whose hint names the
   * alternative (e.g. `--vmm qemu`).
   */
  available(spec: MachineSpec): Promise<void>;
  /**
   * Start the VMM for `spec` in `instanceDir` (which exists and is empty but
   * for `spec.json`). Resolves once the VMM process is running and the console
   * log/socket exist; the VMM keeps running after Kiln exits.
   */
  start(spec: MachineSpec, instanceDir: string, opts?: StartOptions): Promise<StartedMachine>;
  /**
   * Ask the guest to shut down (ACPI power button, Ctrl-Alt-Del), then end the
   * VMM after `timeoutMs`, then SIGKILL. Resolves when the process is gone.
   */
  stop(instanceDir: string, pid: number, opts: { timeoutMs: number }): Promise<void>;
  /** Map the VMM's exit status and the console log tail to the guest's exit. */
  guestExit(
    status: { exitCode: number | null; signal: string | null },
    consoleTail: string,
    vmm?: VmmExitContext,
  ): GuestExit;
}

/** What else is known when a VMM ends: its own output and how it was started. */
export interface VmmExitContext {
  /** The last lines of the VMM's stdout/stderr (`<instanceDir>/vmm.log`), where it explains its own failures. */
  logTail: string[];
  /** The VMM command line, when recorded (tells, e.g., whether QEMU had an `isa-debug-exit` device). */
  argv?: string[];
  /** QEMU's shutdown-request trace (`vmm-events.log`), when it exists: tells a power-off from a reset. */
  events?: string;
}
