/**
 * `kiln run [KERNEL|DIR] [options] [-- app args]`: boot a kernel file, or a
 * project's built target, in a VM. Foreground runs stream the console and
 * forward input (see `machine/console.ts` for the escape sequence); `-d`
 * detaches; `--wait-for`/`--timeout` make a smoke test.
 */

import { existsSync } from "node:fs";
import { ExitCode, KilnError, usageError } from "../../core/errors.js";
// Modules are imported one by one, and the Kraftfile reader and CPIO writer
// only when needed: start-up time is part of every boot (see bench/boot).
import { startRun } from "../../machine/foreground.js";
import { planRun } from "../../machine/run-plan.js";
import { bool, type CommandDef, list, str } from "../command.js";

/** Architecture spellings (Debian's, Unikraft's, the kernel's) of the two Kiln runs. */
const ARCH_ALIASES: Record<string, string> = {
  x86_64: "x86_64",
  "x86-64": "x86_64",
  amd64: "x86_64",
  arm64: "arm64",
  aarch64: "arm64",
};

/** `-m/--arch` with a kernel file: the kernel must be built for it (kraft checks the same for a package). */
function checkArch(flag: string | undefined, detected: string, kernel: string): void {
  if (flag === undefined) return;
  const want = ARCH_ALIASES[flag.toLowerCase()];
  if (!want) throw usageError(`-m/--arch "${flag}" is not x86_64 or arm64`);
  if (want !== detected) {
    throw new KilnError("RUN_ARCH_MISMATCH", `-m ${flag}: ${kernel} is an ${detected} kernel`, {
      hint: `leave out -m, or give a kernel built for ${want}`,
    });
  }
}

/** The `.dbg` image Unikraft's build writes beside the kernel (kraft run --symbolic boots it). */
function symbolicImage(kernel: string): string {
  const dbg = kernel.endsWith(".dbg") ? kernel : `${kernel}.dbg`;
  if (!existsSync(dbg)) {
    throw new KilnError("RUN_NO_SYMBOLIC", `--symbolic: there is no ${dbg} beside ${kernel}`, {
      hint: "Unikraft's build writes KERNEL.dbg (the image with symbols); build the target first",
    });
  }
  return dbg;
}

const command: CommandDef = {
  name: ["run"],
  summary: "boot a kernel or a project's built target in a VM (QEMU by default)",
  usage: "run [KERNEL|DIR] [options] [-- app args]",
  maxPositionals: 1,
  options: {
    initrd: {
      type: "string",
      valueName: "FILE|DIR",
      description: "initrd file, or a directory packed to CPIO on the fly",
    },
    rootfs: {
      type: "string",
      valueName: "IMAGE",
      description: "root filesystem image on virtio-blk (/dev/vda)",
    },
    volume: {
      type: "string",
      short: "v",
      multiple: true,
      valueName: "SRC:DST[:ro]",
      description: "share a host directory over 9p",
    },
    publish: {
      type: "string",
      short: "p",
      multiple: true,
      valueName: "[IP:]HOST:GUEST[/tcp|udp]",
      description: "forward a host port (bound to 127.0.0.1 unless IP is given)",
    },
    memory: {
      type: "string",
      short: "M",
      valueName: "SIZE",
      description: "guest memory: 64M, 1G (bare number = MiB; default 64M Unikraft, 256M Linux)",
    },
    cpus: { type: "string", valueName: "N", description: "virtual CPUs (default 1)" },
    "kernel-arg": {
      type: "string",
      short: "a",
      multiple: true,
      valueName: "ARG",
      description: "kernel command-line argument",
    },
    env: {
      type: "string",
      short: "e",
      multiple: true,
      valueName: "K=V",
      description: "environment variable for the application",
    },
    detach: {
      type: "boolean",
      short: "d",
      description: "start in the background and print the machine name",
    },
    rm: { type: "boolean", description: "remove the machine when it exits" },
    name: {
      type: "string",
      short: "n",
      valueName: "NAME",
      description: "machine name (default: generated adjective_noun)",
    },
    "no-accel": { type: "boolean", short: "W", description: "do not try KVM; emulate with TCG" },
    network: {
      type: "string",
      valueName: "MODE",
      description:
        "user (default: user-mode, no privileges), none, tap[:DEV] (an existing tap device), bridge[:BR] (via qemu-bridge-helper)",
    },
    "wait-for": {
      type: "string",
      valueName: "REGEX",
      description: "exit 0 (and stop the VM) once the console matches",
    },
    timeout: {
      type: "string",
      valueName: "SECONDS",
      description: "fail with the last console lines after this long",
    },
    vmm: {
      type: "string",
      valueName: "NAME",
      description: "qemu (default) or firecracker (default for firecracker targets)",
    },
    "qemu-machine": {
      type: "string",
      valueName: "TYPE",
      description: "override QEMU's machine type: pc, q35, microvm",
    },
    target: { type: "string", short: "t", valueName: "NAME", description: "project target to run" },
    plat: { type: "string", valueName: "PLAT", description: "project target platform filter" },
    arch: {
      type: "string",
      short: "m",
      valueName: "ARCH",
      description: "project target architecture filter",
    },
    kraftfile: {
      type: "string",
      short: "K",
      valueName: "FILE",
      description: "Kraftfile to read (default: DIR's)",
    },
    vsock: {
      type: "string",
      valueName: "CID",
      description:
        "add a virtio-vsock device with guest CID (3 or more); Firecracker: host socket <machine dir>/vsock.sock",
    },
    json: { type: "boolean", description: "with -d: print the machine record as JSON" },
    // KraftKit's spellings (kraft run --help), same meanings.
    port: {
      type: "string",
      multiple: true,
      valueName: "[IP:]HOST:GUEST",
      description: "kraft's spelling of -p/--publish",
    },
    "disable-acceleration": { type: "boolean", description: "kraft's spelling of -W/--no-accel" },
    as: { type: "string", valueName: "VMM", description: "kraft's spelling of --vmm" },
    symbolic: {
      type: "boolean",
      description: "boot the symbolic (debug) image: KERNEL.dbg, as kraft run --symbolic",
    },
    interactive: {
      type: "boolean",
      short: "i",
      description: "keep the console attached with input (the default without -d; kraft's -i)",
    },
  },
  foreignFlags: {
    "--platform": "Kiln's spelling is --plat (kraft's -p is the port here, as in docker)",
    "--runtime": "Kiln runs kernel files and projects; there are no runtime packages (give KERNEL or DIR)",
    "--entrypoint": "give the application's arguments after --: kiln run KERNEL -- ARG…",
    "--restart": "Kiln has no restart policy; start it again with kiln start NAME",
    "--no-start": "not available: a machine starts when created; kiln run -d, then kiln stop/start NAME",
    "--ip":
      "not available: user-mode networking gives the guest 10.0.2.15 (DHCP); use --network tap:DEV for your own addressing",
    "--mac": "not available: the guest's MAC address is QEMU's default",
    "--prefix": "not available: Kiln prints the console as the guest writes it",
    "--memory-size": "Kiln's spelling is -M/--memory",
    "--vcpus": "Kiln's spelling is --cpus",
    "--add-drive": "not available yet: Kiln attaches one disk, --rootfs IMAGE",
    "--firecracker-binary":
      "not available yet: Kiln runs the firecracker found on PATH (put yours first on PATH)",
    "--socket-path":
      "not available yet: the API socket is fc.sock in the machine's directory (kiln inspect NAME)",
    "--kernel-opts": "Kiln's spelling is -a/--kernel-arg ARG (repeatable)",
    "--kernel": "give the kernel file as the argument: kiln run KERNEL",
    "--root-drive": "Kiln's spelling is --rootfs IMAGE",
  },
  details: `Console keys (interactive terminal): Ctrl-C stops the VM cleanly; Ctrl-] then c sends Ctrl-C
to the guest; Ctrl-] then q stops the VM; Ctrl-] Ctrl-] sends Ctrl-]. Piped stdin goes to the console.
Exit status: the guest's (Linux power-off 0, panic 1, Unikraft/isa-debug-exit code), 0 on --wait-for match.

examples:
  kiln run /boot/vmlinuz-$(uname -r) --initrd examples/hello-linux/rootfs --wait-for 'hello from'
  kiln run -d -n web -p 8080:80 KERNEL --initrd rootfs/
  kiln run -t helloworld_qemu-x86_64 .`,
  async run(ctx) {
    if (bool(ctx, "interactive") && bool(ctx, "detach")) {
      throw usageError(
        "-i keeps the console attached; -d detaches: choose one",
        "attach later with: kiln attach NAME",
      );
    }
    const vmm = str(ctx, "vmm");
    const as = str(ctx, "as");
    if (vmm !== undefined && as !== undefined && vmm !== as) {
      throw usageError(
        `--vmm ${vmm} and --as ${as} name different VMMs`,
        "--as is kraft's spelling of --vmm: give one",
      );
    }
    if (bool(ctx, "json") && !bool(ctx, "detach")) {
      throw usageError(
        "--json needs -d: a foreground run streams the guest's console on stdout",
        "kiln run -d --json … prints the machine record; then kiln wait/logs NAME",
      );
    }
    const plan = await planRun({
      target: ctx.positionals[0],
      filter: {
        target: str(ctx, "target"),
        platform: str(ctx, "plat"),
        arch: str(ctx, "arch"),
        kraftfile: str(ctx, "kraftfile"),
      },
      cwd: ctx.cwd,
      env: ctx.env,
      network: str(ctx, "network"),
      qemuMachine: str(ctx, "qemu-machine"),
      vmm: vmm ?? as,
      envVars: list(ctx, "env"),
      volumes: list(ctx, "volume"),
      initrd: str(ctx, "initrd"),
      rootfs: str(ctx, "rootfs"),
      memory: str(ctx, "memory"),
      cpus: str(ctx, "cpus"),
      timeout: str(ctx, "timeout"),
      waitFor: str(ctx, "wait-for"),
      detach: bool(ctx, "detach"),
      kernelArgs: list(ctx, "kernel-arg"),
      appArgs: ctx.rest,
      publish: [...list(ctx, "publish"), ...list(ctx, "port")],
      noAccel: bool(ctx, "no-accel") || bool(ctx, "disable-acceleration"),
      vsock: str(ctx, "vsock"),
    });
    checkArch(str(ctx, "arch"), plan.base.architecture, plan.base.kernel);
    if (bool(ctx, "symbolic")) plan.base.kernel = symbolicImage(plan.base.kernel);
    for (const w of plan.warnings) ctx.reporter.warn(w);
    // Ctrl-C from here on is Kiln's to handle: main's default would exit at once, leaving a QEMU
    // spawned in its own session (or a record stuck in "starting") behind.
    ctx.claimInterrupts();
    const result = await startRun(plan, ctx, { name: str(ctx, "name"), autoRemove: bool(ctx, "rm") });
    if (result.kind === "exited") return result.exitCode;
    const { record, spec } = result.launched;
    ctx.out(bool(ctx, "json") ? `${JSON.stringify(record, null, 2)}\n` : `${spec.name}\n`);
    return ExitCode.ok;
  },
};

export default command;
