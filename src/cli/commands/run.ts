/**
 * `kiln run [KERNEL|DIR] [options] [-- app args]`: boot a kernel file, or a
 * project's built target, in a VM. Foreground runs stream the console and
 * forward input (see `machine/console.ts` for the escape sequence); `-d`
 * detaches; `--wait-for`/`--timeout` make a smoke test.
 */

import { ExitCode } from "../../core/errors.js";
// Modules are imported one by one, and the Kraftfile reader and CPIO writer
// only when needed: start-up time is part of every boot (see bench/boot).
import { startRun } from "../../machine/foreground.js";
import { planRun } from "../../machine/run-plan.js";
import { bool, type CommandDef, list, str } from "../command.js";

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
    "allow-host-loopback": {
      type: "boolean",
      description:
        "user network: let the guest connect out, including to services on the host's 127.0.0.1 (via 10.0.2.2); default: only -p forwards",
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
  },
  details: `Console keys (interactive terminal): Ctrl-C stops the VM cleanly; Ctrl-] then c sends Ctrl-C
to the guest; Ctrl-] then q stops the VM; Ctrl-] Ctrl-] sends Ctrl-]. Piped stdin goes to the console.
Exit status: the guest's (Linux power-off 0, panic 1, Unikraft/isa-debug-exit code), 0 on --wait-for match.

examples:
  kiln run /boot/vmlinuz-$(uname -r) --initrd examples/hello-linux/rootfs --wait-for 'hello from'
  kiln run -d -n web -p 8080:80 KERNEL --initrd rootfs/
  kiln run -t helloworld_qemu-x86_64 .`,
  async run(ctx) {
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
      allowHostLoopback: bool(ctx, "allow-host-loopback"),
      qemuMachine: str(ctx, "qemu-machine"),
      vmm: str(ctx, "vmm"),
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
      publish: list(ctx, "publish"),
      noAccel: bool(ctx, "no-accel"),
      vsock: str(ctx, "vsock"),
    });
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
