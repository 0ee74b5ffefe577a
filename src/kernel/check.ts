/**
 * `kiln kernel check`: which options a kernel configuration lacks for a
 * machine, and why each is required. The requirements per machine are
 * Firecracker's docs/kernel-policy.md ("Minimal boot requirements" for a
 * root block device, and the items a Kiln guest uses: console, network,
 * vsock, entropy) and what Kiln's QEMU drivers need (microvm: virtio-mmio
 * built in; pc: virtio over PCI). A `=m` counts as missing for the microVM
 * machines: they boot without an initramfs, so nothing could load it.
 */
import { readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { errnoText, KilnError } from "../core/errors.js";
import { configValues } from "./fragment.js";
import type { KernelArch } from "./types.js";

/** The machines a configuration can be checked for. */
export type CheckTarget = "firecracker" | "qemu-microvm" | "qemu-pc";
export const CHECK_TARGETS: readonly CheckTarget[] = ["firecracker", "qemu-microvm", "qemu-pc"];

/** One requirement: any one of `anyOf` at one of the accepted values. */
export interface Requirement {
  anyOf: string[];
  accept: string[];
  why: string;
}

const built = ["y"];
const builtOrModule = ["y", "m"];

function common(accept: string[]): Requirement[] {
  return [
    {
      anyOf: ["PRINTK"],
      accept: built,
      why: "boot messages on the console (kernel-policy: optional boot logs)",
    },
    {
      anyOf: ["SERIAL_8250_CONSOLE"],
      accept: built,
      why: "the console on ttyS0 (kernel-policy: serial console)",
    },
    {
      anyOf: ["BLK_DEV_INITRD"],
      accept: built,
      why: "booting from an initrd (kernel-policy: initrd support)",
    },
    {
      anyOf: ["VIRTIO_BLK"],
      accept,
      why: "the root disk is virtio-blk (kernel-policy: booting with a root block device)",
    },
    { anyOf: ["EXT4_FS"], accept, why: "Kiln's and the tutorial's root filesystems are ext4" },
    { anyOf: ["VIRTIO_NET"], accept, why: "the network interface is virtio-net (kernel-policy: network)" },
    {
      anyOf: ["HW_RANDOM_VIRTIO"],
      accept,
      why: "entropy from the virtio RNG device (kernel-policy: entropy)",
    },
    { anyOf: ["DEVTMPFS"], accept: built, why: "/dev for init without an initramfs" },
  ];
}

/** The requirements of `target` for `arch` (pure). */
export function requirementsFor(target: CheckTarget, arch: KernelArch): Requirement[] {
  if (target === "qemu-pc") {
    return [
      ...common(builtOrModule),
      { anyOf: ["PCI"], accept: built, why: "-M pc's devices sit on PCI" },
      {
        anyOf: ["VIRTIO_PCI"],
        accept: builtOrModule,
        why: "virtio devices on -M pc are PCI devices (=m needs an initramfs that loads it)",
      },
    ];
  }
  const reqs = [
    ...common(built),
    {
      anyOf: ["VIRTIO_MMIO"],
      accept: built,
      why: "microVM devices are virtio over MMIO and there is no initramfs to load a module (kernel-policy: virtio devices)",
    },
    { anyOf: ["VIRTIO_VSOCKETS"], accept: built, why: "host-guest sockets (kernel-policy: vsock)" },
  ];
  if (arch === "arm64") {
    reqs.push(
      {
        anyOf: ["ARM_AMBA"],
        accept: built,
        why: "the PL031 clock sits on the AMBA bus (kernel-policy ARM: timekeeping)",
      },
      {
        anyOf: ["RTC_DRV_PL031"],
        accept: built,
        why: "the guest's real-time clock (kernel-policy ARM: timekeeping)",
      },
      {
        anyOf: ["SERIAL_OF_PLATFORM"],
        accept: built,
        why: "the device-tree serial console (kernel-policy ARM: serial console)",
      },
    );
    return reqs;
  }
  if (target === "firecracker") {
    reqs.push(
      {
        anyOf: ["KVM_GUEST"],
        accept: built,
        why: "kvm-clock timekeeping; required for any boot (kernel-policy x86_64: minimal boot requirements)",
      },
      {
        anyOf: ["VIRTIO_MMIO_CMDLINE_DEVICES", "ACPI"],
        accept: built,
        why: "Firecracker names its devices on the kernel command line (kernel-policy x86_64: minimal boot requirements) and, since it describes them in ACPI too, its own 6.1 config finds them that way",
      },
    );
  } else {
    reqs.push(
      {
        anyOf: ["VIRTIO_MMIO_CMDLINE_DEVICES", "ACPI"],
        accept: built,
        why: "microvm announces its devices through ACPI, or with acpi=off on the kernel command line",
      },
      {
        anyOf: ["PVH"],
        accept: built,
        why: "QEMU loads an uncompressed vmlinux only through its PVH entry point",
      },
    );
  }
  return reqs;
}

/** One unmet requirement. */
export interface Missing {
  options: string[];
  /** Each option's value in the configuration (`n` when absent). */
  actual: Record<string, string>;
  accept: string[];
  why: string;
}

/** The unmet requirements of `dotconfig` for `target` (pure). */
export function checkConfig(dotconfig: string, target: CheckTarget, arch: KernelArch): Missing[] {
  const values = configValues(dotconfig);
  const out: Missing[] = [];
  for (const r of requirementsFor(target, arch)) {
    if (r.anyOf.some((o) => r.accept.includes(values.get(o) ?? "n"))) continue;
    out.push({
      options: r.anyOf,
      actual: Object.fromEntries(r.anyOf.map((o) => [o, values.get(o) ?? "n"])),
      accept: r.accept,
      why: r.why,
    });
  }
  return out;
}

/** The architecture a `.config` was made for (`CONFIG_X86_64` / `CONFIG_ARM64`), or undefined (pure). */
export function configArch(dotconfig: string): KernelArch | undefined {
  if (/^CONFIG_X86_64=y$/m.test(dotconfig)) return "x86_64";
  if (/^CONFIG_ARM64=y$/m.test(dotconfig)) return "arm64";
  return undefined;
}

/** The configuration embedded by `CONFIG_IKCONFIG` (between `IKCFG_ST` and `IKCFG_ED`, kernel/configs.c) (pure). */
export function embeddedConfig(image: Buffer): string | undefined {
  const start = image.indexOf("IKCFG_ST");
  const end = start === -1 ? -1 : image.indexOf("IKCFG_ED", start);
  if (end === -1) return undefined;
  try {
    return gunzipSync(image.subarray(start + 8, end)).toString("utf8");
  } catch {
    return undefined;
  }
}

/**
 * The configuration text of `path`: a `.config` itself, a kernel with its
 * configuration beside it (`config-VER` beside `/boot/vmlinuz-VER`,
 * `<kernel>.config` as `kiln kernel build` writes it) or embedded by IKCONFIG.
 */
export async function readKernelConfig(path: string): Promise<{ text: string; from: string }> {
  let head: Buffer;
  try {
    head = await readFile(path);
  } catch (e) {
    throw new KilnError("KERNEL_CHECK_UNREADABLE", `${path} cannot be read: ${errnoText(e)}`);
  }
  if (
    /^(# Automatically generated|CONFIG_|# CONFIG_)/m.test(head.subarray(0, 4096).toString("latin1")) &&
    !head.includes(0)
  ) {
    return { text: head.toString("utf8"), from: path };
  }
  const ver = /^(?:vmlinuz|vmlinux|bzImage)-(.+)$/.exec(basename(path))?.[1];
  const beside = [...(ver ? [join(dirname(path), `config-${ver}`)] : []), `${path}.config`];
  for (const c of beside) {
    try {
      if ((await stat(c)).isFile()) return { text: await readFile(c, "utf8"), from: c };
    } catch {
      // not there
    }
  }
  const embedded = embeddedConfig(head);
  if (embedded !== undefined) return { text: embedded, from: `${path} (IKCONFIG)` };
  throw new KilnError("KERNEL_CHECK_NO_CONFIG", `no configuration found for ${path}`, {
    hint: `pass the .config, or keep it beside the kernel (${beside.join(" or ")}); an uncompressed vmlinux built with CONFIG_IKCONFIG carries its own`,
  });
}
