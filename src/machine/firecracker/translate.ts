/**
 * Firecracker-style Linux guests on QEMU: which machine type a kernel can
 * boot on, and how Firecracker's kernel arguments translate. Pure except
 * {@link readKernelFeatures}, which finds a kernel's `.config`.
 *
 * Facts this plan rests on (issue 4, measured under TCG on the reference machine):
 * - QEMU's `-M microvm` has Firecracker's device model: virtio-mmio, no PCI.
 *   A kernel built from Firecracker's 6.1 guest config (virtio-mmio built in,
 *   devices found through ACPI) boots there to init in about 2.4 s.
 * - A kernel with `CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES` can instead run without
 *   ACPI (`microvm,acpi=off`) and take its devices from the command line as
 *   Firecracker passes them (`virtio_mmio.device=<size>@<addr>:<irq>`). QEMU
 *   writes those arguments itself (microvm's `auto-kernel-cmdline`, on by
 *   default) with its own addresses (base 0xfeb00000, 512-byte slots), so
 *   Firecracker's (base 0xd0000000) must be dropped, not copied.
 * - Debian's stock kernel has virtio-mmio as a module and hangs on `microvm`
 *   with ACPI under TCG: it gets `-M pc` with virtio-pci.
 * - `reboot=k` resets through the i8042 keyboard controller, which Firecracker
 *   emulates to end the VMM; `microvm` has no i8042, so on QEMU the guest
 *   reboots by triple fault (`reboot=t`) and `-no-reboot` ends QEMU.
 * - `pci=off` would hide the virtio-pci devices of `-M pc`.
 */
import { access, readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";

/** Kconfig facts about a Linux kernel that decide its QEMU machine. */
export interface LinuxKernelFeatures {
  /** `CONFIG_VIRTIO_MMIO`: built in, module, or absent. */
  virtioMmio: "y" | "m" | "n";
  /** `CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES`. */
  virtioMmioCmdline: boolean;
  /** `CONFIG_VIRTIO_PCI`. */
  virtioPci: "y" | "m" | "n";
  /** `CONFIG_ACPI`. */
  acpi: boolean;
  /** `CONFIG_PVH` (QEMU can load the uncompressed vmlinux directly). */
  pvh: boolean;
}

/** Read the features from a `.config` text. */
export function kernelFeaturesFromConfig(config: string): LinuxKernelFeatures {
  const value = (name: string): "y" | "m" | "n" => {
    const m = new RegExp(`^CONFIG_${name}=(y|m)$`, "m").exec(config);
    return (m?.[1] as "y" | "m" | undefined) ?? "n";
  };
  return {
    virtioMmio: value("VIRTIO_MMIO"),
    virtioMmioCmdline: value("VIRTIO_MMIO_CMDLINE_DEVICES") === "y",
    virtioPci: value("VIRTIO_PCI"),
    acpi: value("ACPI") === "y",
    pvh: value("PVH") === "y",
  };
}

/**
 * The configuration embedded in a kernel image by `CONFIG_IKCONFIG`: a gzip
 * stream between the `IKCFG_ST` and `IKCFG_ED` markers (kernel/configs.c).
 * Found in an uncompressed `vmlinux`; a bzImage's payload is compressed.
 */
export function extractIkconfig(image: Buffer): string | undefined {
  const start = image.indexOf("IKCFG_ST");
  if (start === -1) return undefined;
  const end = image.indexOf("IKCFG_ED", start);
  if (end === -1) return undefined;
  try {
    return gunzipSync(image.subarray(start + 8, end)).toString("utf8");
  } catch {
    return undefined;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/** Where a kernel's `.config` may sit: Debian's `/boot/config-<ver>`, `<kernel>.config`, a build tree's `.config`. */
export function kernelConfigCandidates(kernelPath: string): string[] {
  const dir = dirname(kernelPath);
  const base = basename(kernelPath);
  const out: string[] = [];
  const ver = /^(?:vmlinuz|vmlinux|bzImage)-(.+)$/.exec(base)?.[1];
  if (ver) out.push(join(dir, `config-${ver}`));
  out.push(`${kernelPath}.config`);
  if (base === "vmlinux") out.push(join(dir, ".config"));
  return out;
}

/**
 * The features of the kernel at `kernelPath`: from a `.config` beside it
 * (see {@link kernelConfigCandidates}) or its embedded IKCONFIG; undefined
 * when neither is found (callers then choose the machine every kernel boots on).
 */
export async function readKernelFeatures(kernelPath: string): Promise<LinuxKernelFeatures | undefined> {
  for (const c of kernelConfigCandidates(kernelPath)) {
    if (await exists(c)) return kernelFeaturesFromConfig(await readFile(c, "utf8"));
  }
  try {
    const embedded = extractIkconfig(await readFile(kernelPath));
    return embedded === undefined ? undefined : kernelFeaturesFromConfig(embedded);
  } catch {
    return undefined;
  }
}

/** How to run a Firecracker-style Linux guest on QEMU (x86_64). */
export interface QemuLinuxMachinePlan {
  machine: "microvm" | "pc";
  /** The `-machine` value, e.g. `microvm,acpi=off`. */
  machineOption: string;
  /** Device transport: `virtio-*-device` on microvm, `virtio-*-pci` on pc. */
  transport: "virtio-mmio" | "virtio-pci";
  /** Why this machine, for `--verbose`/inspect output. */
  reason: string;
}

/** Choose the QEMU machine for a Linux kernel with the given features (undefined: unknown). */
export function planLinuxMachine(features: LinuxKernelFeatures | undefined): QemuLinuxMachinePlan {
  const pc = (reason: string): QemuLinuxMachinePlan => ({
    machine: "pc",
    machineOption: "pc",
    transport: "virtio-pci",
    reason,
  });
  if (!features) return pc("kernel configuration unknown: -M pc with virtio-pci boots any x86 kernel");
  if (features.virtioMmio !== "y") {
    return pc(
      `virtio-mmio is ${features.virtioMmio === "m" ? "a module" : "absent"} in this kernel, so microvm's devices cannot be found at boot`,
    );
  }
  if (features.acpi) {
    return {
      machine: "microvm",
      machineOption: "microvm,acpi=on",
      transport: "virtio-mmio",
      reason:
        "virtio-mmio built in, devices found through microvm's ACPI tables (Firecracker's 6.1 guest config)",
    };
  }
  if (features.virtioMmioCmdline) {
    return {
      machine: "microvm",
      machineOption: "microvm,acpi=off",
      transport: "virtio-mmio",
      reason:
        "virtio-mmio built in without ACPI: devices passed as virtio_mmio.device= arguments, as Firecracker does",
    };
  }
  return pc(
    "virtio-mmio is built in but the kernel can find its devices neither through ACPI nor the command line",
  );
}

/** The translated arguments and what changed (one note per change). */
export interface TranslatedArgs {
  args: string[];
  notes: string[];
}

/**
 * Translate Firecracker kernel arguments for QEMU machine `machine` (QEMU is
 * run with `-no-reboot`). See the module comment for each rule.
 */
export function translateFirecrackerArgs(
  args: readonly string[],
  machine: "microvm" | "pc" | "q35",
): TranslatedArgs {
  const out: string[] = [];
  const notes: string[] = [];
  for (const a of args) {
    if (a === "reboot=k") {
      out.push("reboot=t");
      notes.push(
        "reboot=k (Firecracker's i8042 reset) became reboot=t (triple fault; QEMU runs with -no-reboot)",
      );
    } else if (a.startsWith("virtio_mmio.device=")) {
      notes.push(`dropped ${a}: QEMU's microvm passes its own virtio-mmio addresses`);
    } else if (a === "pci=off" && machine !== "microvm") {
      notes.push(`dropped pci=off: -M ${machine} attaches its disks and NICs over PCI`);
    } else {
      out.push(a);
    }
  }
  return { args: out, notes };
}

/**
 * Firecracker's own `virtio_mmio.device=` arguments for `count` devices, as it
 * appends them (x86_64: 4 KiB windows from 0xd0000000, IRQs from 5; see
 * Firecracker's `vmm::device_manager::mmio`). For documentation and tests:
 * QEMU needs its own, which its microvm machine writes.
 */
export function firecrackerMmioDeviceArgs(count: number): string[] {
  return Array.from(
    { length: count },
    (_, i) => `virtio_mmio.device=4K@0x${(0xd0000000 + i * 0x1000).toString(16)}:${5 + i}`,
  );
}

/**
 * `tsc_early_khz=` for a TCG guest, from the host's `/proc/cpuinfo`. Under
 * TCG the guest's `rdtsc` reads the host's TSC (QEMU's `cpu_get_tsc` →
 * host ticks), so its frequency is the host's. A kernel on `microvm` has no
 * HPET or ACPI PM timer to calibrate the TSC against, only the PIT, and on a
 * busy host that calibration fails ("tsc: Unable to calibrate against PIT …
 * Marking TSC unstable") and the boot hangs; measured here: 2 of 3 boots hung
 * under load, none with this argument (booting to init in 2.6-2.7 s).
 * Only with `constant_tsc`, where "cpu MHz" is the TSC's rate.
 */
export function tscEarlyKhzArg(cpuinfo: string): string | undefined {
  if (!/^flags\s*:.*\bconstant_tsc\b/m.test(cpuinfo)) return undefined;
  const mhz = /^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo)?.[1];
  if (!mhz) return undefined;
  const khz = Math.round(Number(mhz) * 1000);
  return khz > 0 ? `tsc_early_khz=${khz}` : undefined;
}

/**
 * {@link tscEarlyKhzArg} for this host, unless `kernelArgs` already set one:
 * for the QEMU driver when it boots Linux on `microvm` under TCG.
 */
export async function hostTscEarlyKhzArg(kernelArgs: readonly string[]): Promise<string | undefined> {
  if (kernelArgs.some((a) => a.startsWith("tsc_early_khz="))) return undefined;
  return tscEarlyKhzArg(await readFile("/proc/cpuinfo", "utf8").catch(() => ""));
}
