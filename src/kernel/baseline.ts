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
const off = (...names: string[]): Record<string, string> => Object.fromEntries(names.map((n) => [n, "n"]));

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
    name: "expert",
    why: 'EXPERT shows the prompts of options the kernel otherwise forces on for general-purpose machines (io_uring, the VGA text console, firmware loading, DMI scanning: `bool "…" if EXPERT` with `default y`), so allnoconfig can leave them off; the userspace, hardening and debugging groups turn back on what guests rely on, and the off groups name what stays off',
    options: y("EXPERT"),
  },
  {
    name: "userspace",
    why: "the system calls and /proc and /sys files that glibc, musl, systemd, OpenRC and BusyBox use, on by default without EXPERT and in Firecracker's own 6.1 config: sysctl, file handles (systemd), POSIX timers, signalfd/timerfd/eventfd, POSIX AIO, fadvise/madvise, membarrier, restartable sequences (glibc ≥ 2.35), file locks, core dumps, full-size data structures, /proc/vmstat and /proc/PID/smaps",
    options: y(
      "SYSCTL",
      "PROC_SYSCTL",
      "FHANDLE",
      "POSIX_TIMERS",
      "SIGNALFD",
      "TIMERFD",
      "EVENTFD",
      "AIO",
      "ADVISE_SYSCALLS",
      "MEMBARRIER",
      "RSEQ",
      "FILE_LOCKING",
      "COREDUMP",
      "ELF_CORE",
      "BASE_FULL",
      "VM_EVENT_COUNTERS",
      "PROC_PAGE_MONITOR",
    ),
  },
  {
    name: "hardening",
    why: "the cheap hardening that is on by default without EXPERT: BUG() checks, a random kernel stack offset per system call",
    options: y("BUG", "RANDOMIZE_KSTACK_OFFSET"),
  },
  {
    name: "debugging",
    why: "oopses that name functions (KALLSYMS) and BUG() reports with file and line, as without EXPERT",
    options: y("KALLSYMS", "DEBUG_BUGVERBOSE"),
  },
  {
    name: "build-speed",
    why: "-Os instead of -O2 (the kernel's own tinyconfig does the same, kernel/configs/tiny.config): it compiles faster and gives a smaller vmlinux; a guest's kernel spends little time in its own code",
    options: y("CC_OPTIMIZE_FOR_SIZE"),
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
    name: "x86_64-kept",
    arch: "x86_64",
    why: "x86 options on by default without EXPERT that guests still use: early console output (earlyprintk=ttyS0), the vsyscall page old static binaries call, modify_ldt (Wine, some language runtimes), UMIP, and the MTRR/PAT memory types",
    options: y("EARLY_PRINTK", "X86_VSYSCALL_EMULATION", "MODIFY_LDT_SYSCALL", "X86_UMIP", "MTRR", "X86_PAT"),
  },
  {
    name: "off",
    why: "off on purpose, each restorable with a fragment (docs/linux.md): io_uring (a large subsystem that many hardened distributions also turn off; programs fall back to epoll and threads), the VGA text console and virtual terminals (microVMs have no display; the console is ttyS0), the firmware loader (no device here needs firmware), SLUB debugging (slub_debug=)",
    options: off("IO_URING", "VT", "FW_LOADER", "SLUB_DEBUG"),
  },
  {
    name: "x86_64-off",
    arch: "x86_64",
    why: "off on purpose on x86_64: CPU_MITIGATIONS (allnoconfig already turned it off: no retpolines, return thunks or page-table isolation, a security trade-off between guest processes that docs/linux.md explains with the fragment that restores it), DMI scanning (neither Firecracker nor microvm provide SMBIOS tables), 16-bit segments (DOS emulators), the PC speaker",
    options: off("CPU_MITIGATIONS", "DMI", "X86_16BIT", "PCSPKR_PLATFORM"),
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
  {
    name: "arm64-kept",
    arch: "arm64",
    why: "arm64 options on by default without EXPERT that stay on: kernel page-table isolation and the Spectre-BHB mitigation (on by default and cheap on arm64), a relocatable Image, and the DMA zones some devices' 32-bit DMA needs",
    options: y(
      "UNMAP_KERNEL_AT_EL0",
      "MITIGATE_SPECTRE_BRANCH_HISTORY",
      "RELOCATABLE",
      "ZONE_DMA",
      "ZONE_DMA32",
    ),
  },
];

/** Bumped whenever the groups change, so cached kernels built from an older baseline are not reused. */
export const BASELINE_REVISION = 2;

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
    for (const [name, value] of Object.entries(g.options)) {
      lines.push(value === "n" ? `# CONFIG_${name} is not set` : `CONFIG_${name}=${value}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
