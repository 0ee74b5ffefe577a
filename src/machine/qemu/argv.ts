/**
 * Pure QEMU command-line planning: {@link buildQemuArgv} turns a
 * {@link MachineSpec} and facts about the host into an argv. No I/O here, so
 * golden tests (`test/golden/qemu/*.argv`) pin every choice:
 *
 * - `-nodefaults -no-user-config`: no VGA, no default NIC, no floppy/CD-ROM,
 *   no option ROM scanning for absent devices. Measured on the reference
 *   machine: Unikraft helloworld boots in ~0.4 s this way against ~1 s with the
 *   seed's `-nographic -cpu max` line (issue 4).
 * - Unikraft multiboot images on `-M pc` (QEMU's `-kernel` loads Multiboot on
 *   the PC machine only), with `isa-debug-exit` at QEMU's default port 0x501,
 *   where Unikraft's `system_off` (plat/common/x86/cpu_native.c) writes 42 when
 *   it crashes (QEMU exits 85) and 41 when ACPI power-off failed (QEMU exits
 *   83): without the device a crash would end in ACPI power-off, status 0.
 * - Linux bzImage on `-M pc` with virtio-pci: Debian's stock kernel hangs on
 *   `-M microvm` with ACPI under TCG (issue 4); `microvm` (virtio-mmio) is
 *   planned when asked for, for kernels built for Firecracker.
 * - `-cpu max` under TCG (every feature TCG emulates), `host` under KVM.
 * - The serial console goes to a Unix socket that QEMU itself logs to
 *   `console.log`, so the log is complete whether or not Kiln is attached.
 * - `-no-reboot`: a guest reboot (Linux `panic=-1`, `reboot=t`) ends QEMU.
 */

import { join } from "node:path";
import { KilnError } from "../../core/errors.js";
import { socketPathFrom } from "../../core/unix-socket.js";
import type { MachineSpec } from "../driver.js";
import { translateFirecrackerArgs } from "../firecracker/translate.js";
import { linuxIpArg, unikraftIpArg } from "../guest-address.js";
import { qemuNetdev } from "../network.js";
import { INSTANCE_FILES } from "../supervise.js";
import { checkQemuVsock } from "../vsock.js";

/**
 * The `path=` of the console's pipe chardev: QEMU opens `<path>.in`
 * ({@link INSTANCE_FILES}.consoleInput) and `<path>.out` (consoleOutput).
 */
export const CONSOLE_PIPE = "console";

/** QEMU machine types Kiln plans for. */
export type QemuMachineType = "pc" | "q35" | "microvm" | "virt";

/** Facts about the host and choices made outside the planner. */
export interface QemuHost {
  /** Acceleration to use (already probed: see `accel.ts`). */
  accel: "kvm" | "tcg";
  /** Instance directory holding sockets, logs and the pidfile. */
  instanceDir: string;
  /** Override the machine type chosen from the kernel kind (see `planLinuxMachine`). */
  machine?: QemuMachineType;
  /**
   * On `microvm`: whether the kernel finds its devices through ACPI (default)
   * or, with `false`, from `virtio_mmio.device=` arguments QEMU writes itself.
   */
  microvmAcpi?: boolean;
  /** QEMU binary name or path; defaults per architecture. */
  binary?: string;
  /**
   * Whether `/dev/vhost-vsock` exists (QEMU's vsock needs it: `vsock.ts`).
   * `false` with `spec.vsock` throws `VSOCK_UNAVAILABLE`; left out, the device
   * is planned and QEMU reports a missing one itself (`kiln run` checks first).
   */
  vhostVsock?: boolean;
}

/** The QEMU binary for an architecture. */
export function qemuBinary(arch: MachineSpec["architecture"]): string {
  return arch === "arm64" ? "qemu-system-aarch64" : "qemu-system-x86_64";
}

/**
 * Whether a root image is attached read-only. Planning sets
 * `spec.rootfsReadOnly` from the image's content (an EROFS superblock:
 * `image/sniff.ts`); a spec built without it falls back to the name
 * (`.erofs`, as `kiln rootfs build` names the format). EROFS cannot be
 * written, so the disk is read-only and the kernel gets `ro` (as Firecracker
 * does for a read-only root drive); a read-only disk takes a shared lock, so
 * several machines can boot the same image at once.
 */
export function rootfsReadOnly(spec: Pick<MachineSpec, "rootfs" | "rootfsReadOnly">): boolean {
  if (spec.rootfs === undefined) return false;
  return spec.rootfsReadOnly ?? /\.erofs$/i.test(spec.rootfs);
}

/** The machine type for a spec: `virt` on arm64, `pc` on x86_64 unless overridden. */
export function chooseMachine(spec: MachineSpec, override?: QemuMachineType): QemuMachineType {
  if (spec.architecture === "arm64") return "virt";
  if (override && override !== "virt") return override;
  return "pc";
}

/**
 * Translate Firecracker-only kernel arguments for QEMU (rules and reasons in
 * `firecracker/translate.ts`): `reboot=k` relies on Firecracker's i8042 reset
 * and becomes `reboot=t` (with `-no-reboot`, a reset ends QEMU); Firecracker's
 * `virtio_mmio.device=` addresses and, off microvm, `pci=off` are dropped.
 */
export function translateKernelArgs(args: readonly string[], machine: QemuMachineType = "pc"): string[] {
  return translateFirecrackerArgs(args, machine === "virt" ? "microvm" : machine).args;
}

/**
 * Quote a kernel-command-line word if it has spaces. The kernel's parser
 * (lib/cmdline.c `next_arg`) knows double quotes but no escapes, so a word
 * holding a `"` cannot be passed: refuse it rather than pass something else.
 */
function kq(value: string): string {
  if (value.includes('"')) {
    throw new KilnError(
      "ARG_UNREPRESENTABLE",
      `argument ${JSON.stringify(value)} contains a double quote, which a Linux kernel command line cannot carry`,
      {
        hint: "use single quotes inside the argument (sh -c 'echo 'a b''), or put the command in a script in the initrd",
      },
    );
  }
  return /\s/.test(value) ? `"${value}"` : value;
}

/**
 * One element of a Unikraft array parameter (`env.vars=[ … ]`, `vfs.fstab=[ … ]`),
 * single-quoted. Unikraft's argument splitter (lib/ukargparse/argparse.c, the
 * same from RELEASE-0.10.0 to 0.17.0) takes `'…'` as it takes `"…"`, but inside
 * single quotes a backslash and a `"` are ordinary characters, and a `'` is
 * written `'\''` as in sh. KraftKit double-quotes; single quotes keep `"` out of
 * the line, so QEMU's config file can carry it and `-e` secrets stay out of
 * QEMU's argv ({@link qemuKernelConfig}). A newline is refused: QEMU's config
 * file cannot hold one and Unikraft would read it as the end of a line.
 */
function ukq(what: string, value: string): string {
  if (/[\n\0]/.test(value)) {
    throw new KilnError(
      "ARG_UNREPRESENTABLE",
      `${what}: a Unikraft command-line value cannot contain a newline or a NUL byte`,
      { hint: "Unikraft reads env.vars from its command line, where a newline ends the value" },
    );
  }
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/** The kernel command line for a spec (Unikraft or Linux syntax). */
export function kernelCommandLine(spec: MachineSpec, machine: QemuMachineType = chooseMachine(spec)): string {
  const args = translateKernelArgs(spec.kernelArgs, machine);
  const has = (key: string) => args.some((a) => a === key || a.startsWith(`${key}=`));
  const out: string[] = [];
  if (spec.guest === "linux") {
    if (!has("console")) out.push(spec.architecture === "arm64" ? "console=ttyAMA0" : "console=ttyS0");
    // A panic reboots at once, and -no-reboot turns that into QEMU exiting.
    if (!has("panic")) out.push("panic=-1");
    if (spec.rootfs && !has("root")) out.push("root=/dev/vda");
    // As Firecracker appends `root=/dev/vda rw` for a writable root drive (`ro` for
    // a read-only one): without `rw` the kernel (and Debian's initramfs) mounts it read-only.
    if (spec.rootfs && !has("rw") && !has("ro")) out.push(rootfsReadOnly(spec) ? "ro" : "rw");
    if (spec.guestIp && !has("ip")) out.push(linuxIpArg(spec.guestIp));
    out.push(...args);
    // The kernel hands `K=V` words it does not know to init as environment.
    for (const [k, v] of Object.entries(spec.env)) out.push(`${k}=${kq(v)}`);
    if (spec.appArgs.length > 0) out.push("--", ...spec.appArgs.map(kq));
    return out.join(" ");
  }
  // Unikraft (uklibparam): `lib.param=value …` then `--` then the application's
  // argv. Environment and 9p mounts use the array syntax KraftKit emits:
  // env.vars=[ 'K=V' ] and vfs.fstab=[ 'fs0:/dst:9pfs:::mkmp' ] (KraftKit double-quotes; see ukq), where
  // the fstab fields are dev:path:driver:flags:opts:ukopts (flags 0x1 = read-only).
  if (spec.guestIp && !has("netdev.ip")) out.push(unikraftIpArg(spec.guestIp));
  out.push(...args);
  const env = Object.entries(spec.env);
  if (env.length > 0) out.push(`env.vars=[ ${env.map(([k, v]) => ukq(`-e ${k}`, `${k}=${v}`)).join(" ")} ]`);
  const mounted = spec.volumes.filter((v) => !v.automounted);
  if (mounted.length > 0) {
    const entries = mounted.map((v) =>
      ukq(`-v ${v.guestPath}`, `${v.tag}:${v.guestPath}:9pfs:${v.readonly ? "0x1" : ""}::mkmp`),
    );
    out.push(`vfs.fstab=[ ${entries.join(" ")} ]`);
  }
  // Only uklibparam strips the `--`: without library parameters, pass the
  // application's argv alone so an image built without uklibparam (e.g. a
  // plain helloworld) does not see a stray "--" in argv.
  if (out.length > 0) out.push("--");
  out.push(...spec.appArgs);
  return out.join(" ");
}

/**
 * A value inside a QEMU option string (`-drive file=…`, `-fsdev path=…`,
 * `-chardev …,path=…`). QEMU's option parser (util/qemu-option.c
 * `get_opt_value`) ends a value at `,` and reads `,,` as a literal comma, so a
 * path like `/x/vol,path=/secret` would otherwise add options of its own
 * (issue 9: a volume exposing `/secret`, a root disk opening another file).
 */
export function qemuOptValue(value: string): string {
  return value.replaceAll(",", ",,");
}

/**
 * A file name for `-drive file=`: QEMU picks a block protocol from a prefix
 * ending in `:` before any `/` (`nbd:…`, `http:…`; block.c
 * `path_has_protocol`), so a relative name gets `./` in front.
 */
function drivePath(path: string): string {
  return qemuOptValue(path.startsWith("/") ? path : `./${path}`);
}

/**
 * `-initrd` for a Multiboot kernel is a module list (hw/i386/multiboot.c):
 * `,` separates modules (`,,` is a literal comma) and a space starts the
 * module's command line. Linux kernels take the name as it is.
 */
function initrdArg(spec: MachineSpec, path: string): string {
  if (spec.kernelKind !== "multiboot") return path;
  if (/\s/.test(path)) {
    throw new KilnError(
      "ARG_UNREPRESENTABLE",
      `initrd path ${JSON.stringify(path)} contains white space, which QEMU's Multiboot loader reads as the start of the module's command line`,
      { hint: "move or link the initrd to a path without spaces" },
    );
  }
  return qemuOptValue(path);
}

/** The longest value QEMU's config-file parser reads (qemu-config.c: `%1023[^"]`). */
const QEMU_CONFIG_VALUE_MAX = 1023;

/**
 * Where a command line with environment values goes: the text of a QEMU
 * config file (`-readconfig`, its `[machine] append` property) that keeps it
 * out of QEMU's argv, or — when QEMU's parser cannot hold it (it reads the
 * value between double quotes, up to 1023 bytes, with no escapes, on one
 * line; a Linux value with spaces needs double quotes, as does a Unikraft value holding a `"`) — why it must stay in `-append`. Undefined without environment values.
 */
export function qemuKernelConfig(
  spec: MachineSpec,
  machine: QemuMachineType = chooseMachine(spec),
): { text: string } | { visibleBecause: string } | undefined {
  if (Object.keys(spec.env).length === 0) return undefined;
  const line = kernelCommandLine(spec, machine);
  if (/["\n]/.test(line))
    return { visibleBecause: "it holds a double quote, which QEMU's config file cannot carry" };
  if (Buffer.byteLength(line) > QEMU_CONFIG_VALUE_MAX)
    return {
      visibleBecause: `it is longer than the ${QEMU_CONFIG_VALUE_MAX} bytes QEMU's config file takes`,
    };
  return {
    text: `# Written by kiln: the kernel command line, kept out of QEMU's argv.\n[machine]\n  append = "${line}"\n`,
  };
}

/** Build the full QEMU argv for `spec` on `host`. Pure. */
export function buildQemuArgv(spec: MachineSpec, host: QemuHost): string[] {
  const dir = host.instanceDir;
  const machine = chooseMachine(spec, host.machine);
  const mmio = machine === "microvm";
  const dev = (name: string) => (mmio ? `${name}-device` : `${name}-pci`);
  const argv: string[] = [host.binary ?? qemuBinary(spec.architecture)];
  argv.push("-name", spec.name);
  argv.push("-nodefaults", "-no-user-config", "-nographic", "-no-reboot");
  const machineOpt = machine === "microvm" && host.microvmAcpi === false ? "microvm,acpi=off" : machine;
  argv.push("-machine", machineOpt, "-accel", host.accel);
  argv.push("-cpu", host.accel === "kvm" ? "host" : "max");
  argv.push("-m", `${spec.memMiB}M`, "-smp", String(spec.cpus));
  // Console: QEMU's pipe chardev reads `console.in` (a FIFO) and writes `console.out` (a link to
  // console.log, a regular file). Not a socket with `logfile=`: when a socket write fails with
  // EAGAIN (its reader briefly behind, e.g. under CPU load), QEMU 7.2's qemu_chr_write_buffer()
  // logs the byte anyway and the 16550's serial_xmit() retries it, so the log got the byte twice
  // (`01234567899`). A write to a regular file always completes: each byte is written once.
  argv.push(
    "-chardev",
    `pipe,id=con0,path=${qemuOptValue(join(dir, CONSOLE_PIPE))}`,
    "-serial",
    "chardev:con0",
  );
  // QEMU runs in the instance directory (supervise.ts): a path too long for sun_path is named relatively.
  const qmp = socketPathFrom(dir, join(dir, INSTANCE_FILES.qmpSocket));
  argv.push("-qmp", `unix:${qemuOptValue(qmp)},server=on,wait=off`);
  argv.push("-pidfile", join(dir, INSTANCE_FILES.pidfile));
  // With -no-reboot, a guest reset ends QEMU with status 0, as a power-off does. QEMU traces a
  // power-off (and QMP quit) as a shutdown request, but a reset under -no-reboot bypasses it
  // (softmmu/runstate.c qemu_system_reset_request): no trace line + status 0 = the guest reset.
  argv.push("-trace", "qemu_system_shutdown_request", "-D", join(dir, INSTANCE_FILES.vmmEvents));
  argv.push("-kernel", spec.kernel);
  if (spec.initrd) argv.push("-initrd", initrdArg(spec, spec.initrd));
  // Environment values are often secrets (-e DB_PASSWORD=…): QEMU's argv is readable by every
  // user (`ps`, /proc/PID/cmdline), so a command line carrying them goes through a 0600 config file.
  const kernelConfig = qemuKernelConfig(spec, machine);
  if (kernelConfig !== undefined && "text" in kernelConfig)
    argv.push("-readconfig", join(dir, INSTANCE_FILES.kernelConfig));
  else argv.push("-append", kernelCommandLine(spec, machine));
  if (spec.guest === "unikraft" && spec.architecture === "x86_64" && machine !== "microvm") {
    argv.push("-device", "isa-debug-exit,iobase=0x501,iosize=0x02");
  }
  if (spec.rootfs) {
    argv.push(
      "-drive",
      `file=${drivePath(spec.rootfs)},if=none,id=rootfs,format=raw${rootfsReadOnly(spec) ? ",readonly=on" : ""}`,
      "-device",
      `${dev("virtio-blk")},drive=rootfs`,
    );
  }
  // Extra disks (`--add-drive`) follow the root in PCI/MMIO order, so the guest sees them as
  // vdb, vdc… as firectl's drives follow Firecracker's root drive.
  (spec.drives ?? []).forEach((d, i) => {
    argv.push(
      "-drive",
      `file=${drivePath(d.path)},if=none,id=drive${i + 1},format=raw${d.readOnly ? ",readonly=on" : ""}`,
      "-device",
      `${dev("virtio-blk")},drive=drive${i + 1}`,
    );
  });
  spec.volumes.forEach((v, i) => {
    argv.push(
      "-fsdev",
      `local,id=fsdev${i},path=${qemuOptValue(v.hostPath)},security_model=none${v.readonly ? ",readonly=on" : ""}`,
      "-device",
      `${dev("virtio-9p")},fsdev=fsdev${i},mount_tag=${v.tag}`,
    );
  });
  const netdev = qemuNetdev(spec);
  if (netdev !== undefined) {
    argv.push("-netdev", netdev);
    // romfile= : no iPXE option ROM; Kiln never network-boots, and loading it costs boot time.
    const mac = spec.mac ? `,mac=${spec.mac}` : "";
    argv.push(
      "-device",
      mmio ? `virtio-net-device,netdev=net0${mac}` : `virtio-net-pci,netdev=net0,romfile=${mac}`,
    );
  }
  if (spec.vsock) {
    if (host.vhostVsock === false) checkQemuVsock(false);
    argv.push("-device", `${dev("vhost-vsock")},guest-cid=${spec.vsock.guestCid}`);
  }
  return argv;
}
