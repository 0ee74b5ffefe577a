/**
 * Kiln's microVM baseline: the options a Linux guest needs on Firecracker
 * and QEMU `microvm`, applied on top of `allnoconfig` (everything that has a
 * prompt off), so the kernel holds what these groups ask for and what they
 * depend on, nothing else. Each group says why it is there; the facts come
 * from Firecracker's docs/kernel-policy.md ("Guest kernel configuration
 * items" and "Minimal boot requirements") unless the reason says otherwise.
 */
import type { KernelArch } from "./types.js";

/** One documented group of options. */
export interface BaselineGroup {
  name: string;
  /** Why the group is in the baseline. */
  why: string;
  /** Architectures it applies to (all when absent). */
  arch?: KernelArch;
  /** `NAME` → value (`y`, or a string/number value as written in a .config). */
  options: Record<string, string>;
}

const y = (...names: string[]): Record<string, string> => Object.fromEntries(names.map((n) => [n, "y"]));

/** The baseline's groups, in the order they are written into the fragment. */
export const BASELINE_GROUPS: readonly BaselineGroup[] = [
  {
    name: "core",
    why: "a userspace at all: printk for boot logs (kernel-policy: optional boot logs), ELF and #! executables, users and groups, SMP for more than one vCPU, tickless idle and high-resolution timers",
    options: y(
      "PRINTK",
      "BINFMT_ELF",
      "BINFMT_SCRIPT",
      "MULTIUSER",
      "SMP",
      "NO_HZ_IDLE",
      "HIGH_RES_TIMERS",
      "FUTEX",
      "EPOLL",
      "SHMEM",
    ),
  },
  {
    name: "console",
    why: "the serial console on ttyS0 (kernel-policy: serial console, CONFIG_SERIAL_8250_CONSOLE) and pseudo-terminals for logins and shells",
    options: y("TTY", "UNIX98_PTYS", "SERIAL_8250", "SERIAL_8250_CONSOLE"),
  },
  {
    name: "initrd",
    why: "booting from an initrd or initramfs (kernel-policy: initrd support, CONFIG_BLK_DEV_INITRD)",
    options: y("BLK_DEV_INITRD"),
  },
  {
    name: "virtio-mmio",
    why: "Firecracker's and microvm's devices are virtio over MMIO (kernel-policy: CONFIG_VIRTIO_MMIO); without ACPI or a device tree their addresses come from the kernel command line (kernel-policy x86_64: CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES)",
    options: y("VIRTIO_MENU", "VIRTIO_MMIO", "VIRTIO_MMIO_CMDLINE_DEVICES"),
  },
  {
    name: "block",
    why: "the root disk and volumes (kernel-policy: block, CONFIG_VIRTIO_BLK; required to boot from a root block device)",
    options: y("BLOCK", "BLK_DEV", "VIRTIO_BLK"),
  },
  {
    name: "network",
    why: "virtio-net (kernel-policy: network, CONFIG_VIRTIO_NET) with IPv4, and unix sockets, which most daemons and init systems use",
    options: y("NET", "UNIX", "INET", "NETDEVICES", "NET_CORE", "VIRTIO_NET"),
  },
  {
    name: "vsock",
    why: "host-guest sockets without a network (kernel-policy: vsock, CONFIG_VIRTIO_VSOCKETS); Kiln's machines expose a vsock CID",
    options: y("VSOCKETS", "VIRTIO_VSOCKETS"),
  },
  {
    name: "entropy",
    why: "the virtio RNG device seeds the guest's entropy pool at boot (kernel-policy: entropy, CONFIG_HW_RANDOM_VIRTIO)",
    options: y("HW_RANDOM", "HW_RANDOM_VIRTIO"),
  },
  {
    name: "filesystems",
    why: "ext4 roots (what kiln rootfs build and the Firecracker tutorial make), EROFS and squashfs read-only roots (kiln rootfs build --format erofs; gzip is mksquashfs's default compressor), 9p over virtio for shared volumes",
    options: y(
      "EXT4_FS",
      "MISC_FILESYSTEMS",
      "EROFS_FS",
      "EROFS_FS_ZIP",
      "SQUASHFS",
      "SQUASHFS_ZLIB",
      "NETWORK_FILESYSTEMS",
      "NET_9P",
      "NET_9P_VIRTIO",
      "9P_FS",
    ),
  },
  {
    name: "pseudo-filesystems",
    why: "/dev populated by the kernel before init runs (devtmpfs, mounted automatically so a bare root works), /proc and /sys for every init system, tmpfs for /run and /tmp",
    options: y("DEVTMPFS", "DEVTMPFS_MOUNT", "PROC_FS", "SYSFS", "TMPFS"),
  },
  {
    name: "x86_64-boot",
    arch: "x86_64",
    why: "PVH lets Firecracker and QEMU -kernel boot the uncompressed ELF vmlinux directly; KVM_GUEST gives kvm-clock timekeeping (kernel-policy x86_64: timekeeping, and required for both initrd and block-device boots); without ACPI, Firecracker and microvm,acpi=off describe the vCPUs and the IO-APIC in MP tables (X86_MPPARSE, on in Firecracker's own config)",
    options: y("64BIT", "HYPERVISOR_GUEST", "PARAVIRT", "PVH", "KVM_GUEST", "X86_MPPARSE"),
  },
  {
    name: "x86_64-shutdown",
    arch: "x86_64",
    why: "poweroff from outside: Firecracker's SendCtrlAltDel goes through the i8042 keyboard controller (kernel-policy x86_64: external clean shutdown); a guest's own reboot (reboot=k) ends the VM without a driver",
    options: y("INPUT", "INPUT_KEYBOARD", "SERIO", "SERIO_I8042", "KEYBOARD_ATKBD"),
  },
  {
    name: "arm64-platform",
    arch: "arm64",
    why: "the PL031 real-time clock on the AMBA bus (kernel-policy ARM: timekeeping) and the device-tree 8250 UART (kernel-policy ARM: serial console, CONFIG_SERIAL_OF_PLATFORM); poweroff goes through PSCI, which arm64 always has",
    options: y(
      "ARM_AMBA",
      "RTC_CLASS",
      "RTC_DRV_PL031",
      "SERIAL_OF_PLATFORM",
      "SERIAL_AMBA_PL011",
      "SERIAL_AMBA_PL011_CONSOLE",
    ),
  },
];

/** Bumped whenever the groups change, so cached kernels built from an older baseline are not reused. */
export const BASELINE_REVISION = 1;

/** The groups that apply to `arch`. */
export function baselineGroups(arch: KernelArch): BaselineGroup[] {
  return BASELINE_GROUPS.filter((g) => g.arch === undefined || g.arch === arch);
}

/** The baseline as a Kconfig fragment for `arch` (each group preceded by its reason). */
export function baselineFragment(arch: KernelArch): string {
  const lines = [
    `# Kiln microVM baseline (revision ${BASELINE_REVISION}) for ${arch}, on top of allnoconfig`,
  ];
  for (const g of baselineGroups(arch)) {
    lines.push(`# ${g.name}: ${g.why}`);
    for (const [name, value] of Object.entries(g.options)) lines.push(`CONFIG_${name}=${value}`);
  }
  return `${lines.join("\n")}\n`;
}
