/**
 * Pure planning for Firecracker: a {@link FirecrackerVmSpec} becomes the
 * ordered API requests that configure and start a microVM
 * ({@link planFirecrackerRequests}), or the equivalent `--config-file` JSON
 * ({@link buildFirecrackerConfig}). Nothing here touches a socket or a file.
 *
 * Field names and shapes follow Firecracker's swagger spec
 * (`firecracker.yaml`, API 1.x): `machine-config` (`MachineConfiguration`),
 * `boot-source` (`BootSource`), `drives/{id}` (`Drive`),
 * `network-interfaces/{id}` (`NetworkInterface`), `vsock` (`Vsock`),
 * `logger` (`Logger`), `metrics` (`Metrics`), `actions` (`InstanceActionInfo`).
 * The order copies Firecracker's getting-started guide: logger and metrics
 * first (so later errors are logged), then machine, boot source, devices,
 * and `InstanceStart` last.
 */
import { isAbsolute } from "node:path";
import { KilnError } from "../../core/errors.js";
import { isValidGuestCid, VSOCK_CID_RULE } from "../vsock.js";

/**
 * Firecracker's kernel command line for Linux guests: the serial console plus
 * Firecracker's own defaults (`reboot=k`: reboot through the i8042 keyboard
 * controller, which Firecracker turns into a VMM exit; `panic=1`; `pci=off`:
 * Firecracker has no PCI bus, only virtio-mmio). Firecracker's built-in
 * default (used when `boot_args` is absent) also has `8250.nr_uarts=0`, which
 * silences the console, so Kiln always sends boot args.
 */
export const FIRECRACKER_DEFAULT_BOOT_ARGS = "console=ttyS0 reboot=k panic=1 pci=off";

/** A block device: the root filesystem or an extra disk. */
export interface FirecrackerDrive {
  /** Firecracker drive id: letters, digits and `_`, at most 64 characters. */
  id: string;
  /** Absolute path of the image file on the host. */
  pathOnHost: string;
  /** Whether the guest mounts it as `/` (Firecracker adds `root=/dev/vda` or `root=PARTUUID=`). */
  isRoot: boolean;
  readOnly: boolean;
  /** Partition UUID of the root partition, for partitioned root images. */
  partuuid?: string;
}

/** A virtio-net device backed by a host tap device. */
export interface FirecrackerNetworkInterface {
  id: string;
  /** Name of the host tap device (e.g. `tap0`). */
  hostDevName: string;
  /** `aa:bb:cc:dd:ee:ff`; Firecracker picks none when absent. */
  guestMac?: string;
  mtu?: number;
}

/** Everything Kiln tells Firecracker about one microVM. */
export interface FirecrackerVmSpec {
  /** Absolute path of the guest kernel (uncompressed `vmlinux` ELF on x86_64, `Image` on arm64). */
  kernelPath: string;
  initrdPath?: string;
  /** Full kernel command line; {@link FIRECRACKER_DEFAULT_BOOT_ARGS} when absent. */
  bootArgs?: string;
  vcpuCount: number;
  memMiB: number;
  /** Simultaneous multithreading (x86_64 only); needs an even vCPU count (or 1). */
  smt?: boolean;
  drives: FirecrackerDrive[];
  networkInterfaces: FirecrackerNetworkInterface[];
  vsock?: { guestCid: number; udsPath: string };
  logger?: { logPath: string; level?: "Error" | "Warning" | "Info" | "Debug" | "Trace" | "Off" };
  metrics?: { metricsPath: string };
}

/** One HTTP request to Firecracker's API. */
export interface FirecrackerRequest {
  method: "PUT" | "PATCH" | "GET";
  path: string;
  body?: Record<string, unknown>;
}

/** Firecracker's id rule (its `checked_id`): 1 to 64 characters, alphanumeric or `_`. */
const ID_RE = /^[A-Za-z0-9_]{1,64}$/;
const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

function invalid(message: string, hint?: string): KilnError {
  return new KilnError("FIRECRACKER_SPEC_INVALID", message, hint ? { hint } : {});
}

function requireAbsolute(what: string, p: string): void {
  if (!isAbsolute(p)) {
    // Firecracker resolves relative paths against its own working directory,
    // which is the instance directory, not the user's: refuse them early.
    throw invalid(`${what} must be an absolute path, got "${p}"`);
  }
}

/**
 * Check a spec against Firecracker's rules before anything is sent, so a
 * mistake is reported with Kiln's wording instead of a 400 mid-configuration.
 * Throws `FIRECRACKER_SPEC_INVALID` stating the rule and the value seen.
 */
export function validateFirecrackerSpec(spec: FirecrackerVmSpec): void {
  requireAbsolute("the kernel path", spec.kernelPath);
  if (spec.initrdPath !== undefined) requireAbsolute("the initrd path", spec.initrdPath);
  if (!Number.isInteger(spec.memMiB) || spec.memMiB < 1) {
    throw invalid(
      `memory must be a whole number of MiB, at least 1, got ${spec.memMiB}`,
      "use -M 128M or more",
    );
  }
  // Firecracker's MachineConfig: "The vCPU count is restricted to the [1, 32] range."
  if (!Number.isInteger(spec.vcpuCount) || spec.vcpuCount < 1 || spec.vcpuCount > 32) {
    throw invalid(`Firecracker runs 1 to 32 vCPUs, got ${spec.vcpuCount}`, "use --cpus between 1 and 32");
  }
  if (spec.smt && spec.vcpuCount !== 1 && spec.vcpuCount % 2 !== 0) {
    throw invalid(`with SMT, the vCPU count must be 1 or even, got ${spec.vcpuCount}`);
  }
  const ids = new Set<string>();
  let roots = 0;
  for (const d of spec.drives) {
    if (!ID_RE.test(d.id)) throw invalid(`drive id must be 1-64 letters, digits or "_", got "${d.id}"`);
    if (ids.has(d.id)) throw invalid(`drive id "${d.id}" is used twice`);
    ids.add(d.id);
    requireAbsolute(`drive "${d.id}"`, d.pathOnHost);
    if (d.isRoot) roots++;
  }
  if (roots > 1) throw invalid(`at most one drive can be the root device, got ${roots}`);
  const nics = new Set<string>();
  for (const n of spec.networkInterfaces) {
    if (!ID_RE.test(n.id))
      throw invalid(`network interface id must be 1-64 letters, digits or "_", got "${n.id}"`);
    if (nics.has(n.id)) throw invalid(`network interface id "${n.id}" is used twice`);
    nics.add(n.id);
    if (n.hostDevName === "") throw invalid(`network interface "${n.id}" needs a host tap device name`);
    if (n.guestMac !== undefined && !MAC_RE.test(n.guestMac)) {
      throw invalid(`guest MAC must look like 06:00:ac:10:00:02, got "${n.guestMac}"`);
    }
    if (n.mtu !== undefined && (!Number.isInteger(n.mtu) || n.mtu < 68 || n.mtu > 65535)) {
      throw invalid(`MTU must be between 68 and 65535, got ${n.mtu}`);
    }
  }
  if (spec.vsock) {
    // CIDs 0-2 are reserved (hypervisor, local, host) by the vsock protocol,
    // and Firecracker's guest_cid is a u32.
    if (!isValidGuestCid(spec.vsock.guestCid)) {
      throw invalid(`vsock guest CID must be ${VSOCK_CID_RULE}, got ${spec.vsock.guestCid}`);
    }
    requireAbsolute("the vsock socket path", spec.vsock.udsPath);
  }
  if (spec.logger) requireAbsolute("the Firecracker log path", spec.logger.logPath);
  if (spec.metrics) requireAbsolute("the Firecracker metrics path", spec.metrics.metricsPath);
}

function machineConfig(spec: FirecrackerVmSpec): Record<string, unknown> {
  return { vcpu_count: spec.vcpuCount, mem_size_mib: spec.memMiB, smt: spec.smt ?? false };
}

function bootSource(spec: FirecrackerVmSpec): Record<string, unknown> {
  return {
    kernel_image_path: spec.kernelPath,
    boot_args: spec.bootArgs ?? FIRECRACKER_DEFAULT_BOOT_ARGS,
    ...(spec.initrdPath !== undefined ? { initrd_path: spec.initrdPath } : {}),
  };
}

function drive(d: FirecrackerDrive): Record<string, unknown> {
  return {
    drive_id: d.id,
    path_on_host: d.pathOnHost,
    is_root_device: d.isRoot,
    is_read_only: d.readOnly,
    ...(d.partuuid !== undefined ? { partuuid: d.partuuid } : {}),
  };
}

function nic(n: FirecrackerNetworkInterface): Record<string, unknown> {
  return {
    iface_id: n.id,
    host_dev_name: n.hostDevName,
    ...(n.guestMac !== undefined ? { guest_mac: n.guestMac } : {}),
    ...(n.mtu !== undefined ? { mtu: n.mtu } : {}),
  };
}

function logger(l: NonNullable<FirecrackerVmSpec["logger"]>): Record<string, unknown> {
  return { log_path: l.logPath, level: l.level ?? "Warning", show_level: true, show_log_origin: false };
}

/**
 * The API requests that configure `spec` and boot it, in order, ending with
 * `PUT /actions {"action_type":"InstanceStart"}`. Validates first.
 */
export function planFirecrackerRequests(spec: FirecrackerVmSpec): FirecrackerRequest[] {
  validateFirecrackerSpec(spec);
  const reqs: FirecrackerRequest[] = [];
  if (spec.logger) reqs.push({ method: "PUT", path: "/logger", body: logger(spec.logger) });
  if (spec.metrics)
    reqs.push({ method: "PUT", path: "/metrics", body: { metrics_path: spec.metrics.metricsPath } });
  reqs.push({ method: "PUT", path: "/machine-config", body: machineConfig(spec) });
  reqs.push({ method: "PUT", path: "/boot-source", body: bootSource(spec) });
  for (const d of spec.drives) {
    reqs.push({ method: "PUT", path: `/drives/${encodeURIComponent(d.id)}`, body: drive(d) });
  }
  for (const n of spec.networkInterfaces) {
    reqs.push({ method: "PUT", path: `/network-interfaces/${encodeURIComponent(n.id)}`, body: nic(n) });
  }
  if (spec.vsock) {
    reqs.push({
      method: "PUT",
      path: "/vsock",
      body: { guest_cid: spec.vsock.guestCid, uds_path: spec.vsock.udsPath },
    });
  }
  reqs.push({ method: "PUT", path: "/actions", body: { action_type: "InstanceStart" } });
  return reqs;
}

/** The request that asks the guest to shut down (x86_64: an i8042 Ctrl-Alt-Del). */
export const SEND_CTRL_ALT_DEL: FirecrackerRequest = {
  method: "PUT",
  path: "/actions",
  body: { action_type: "SendCtrlAltDel" },
};

/**
 * The `firecracker --config-file` JSON equivalent to {@link planFirecrackerRequests}
 * (Firecracker's `FullVmConfiguration`: one key per API resource, devices as
 * arrays). With a config file Firecracker boots immediately, no API calls needed.
 */
export function buildFirecrackerConfig(spec: FirecrackerVmSpec): Record<string, unknown> {
  validateFirecrackerSpec(spec);
  return {
    "boot-source": bootSource(spec),
    "machine-config": machineConfig(spec),
    drives: spec.drives.map(drive),
    "network-interfaces": spec.networkInterfaces.map(nic),
    ...(spec.vsock ? { vsock: { guest_cid: spec.vsock.guestCid, uds_path: spec.vsock.udsPath } } : {}),
    ...(spec.logger ? { logger: logger(spec.logger) } : {}),
    ...(spec.metrics ? { metrics: { metrics_path: spec.metrics.metricsPath } } : {}),
  };
}
