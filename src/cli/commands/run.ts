/**
 * `kiln run [KERNEL|DIR] [options] [-- app args]`: boot a kernel file, or a
 * project's built target, in a VM. Foreground runs stream the console and
 * forward input (see `machine/console.ts` for the escape sequence); `-d`
 * detaches; `--wait-for`/`--timeout` make a smoke test.
 */

import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ExitCode, usageError } from "../../core/errors.js";
import { which } from "../../core/exec.js";
// Modules are imported one by one, and the Kraftfile reader and CPIO writer
// only when needed: start-up time is part of every boot (see bench/boot).
import { startRun } from "../../machine/foreground.js";
import type { ProjectRunFilter } from "../../orchestration/project-run.js";
import { planRun } from "../../orchestration/run-plan.js";
import { bool, type CommandContext, type CommandDef, list, str } from "../command.js";
import { checkArch, checkNoStart, consolePrefix, symbolicImage, vsockFlags } from "../run-flags.js";

/**
 * The run settings of a Linux microVM project (a directory with a Linuxfile
 * and no Kraftfile); `--plat fc` picks Firecracker where its binary exists,
 * else QEMU microvm with the same devices. Undefined for anything else.
 */
async function linuxProjectRun(ctx: CommandContext) {
  const dir = resolve(ctx.cwd, ctx.positionals[0] ?? ".");
  if (ctx.positionals[0] !== undefined && !existsSync(join(dir, "Linuxfile"))) return undefined;
  const { linuxfileIn } = await import("../../orchestration/linux-project/index.js");
  const file = linuxfileIn(dir);
  if (!file) return undefined;
  const { linuxfileRunSettings } = await import("../linux-project.js");
  const settings = await linuxfileRunSettings(file, dir);
  const plat = str(ctx, "plat");
  const vmm =
    plat === "fc" || plat === "firecracker" ? (which("firecracker") ? "firecracker" : undefined) : undefined;
  return { ...settings, vmm };
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

/**
 * On a terminal, when several built targets of the project match, ask which
 * to run (as `kiln build` asks which to build); without a terminal
 * `projectRun` lists them in its error.
 */
async function promptBuiltTarget(ctx: CommandContext, filter: ProjectRunFilter): Promise<string | undefined> {
  if (!ctx.stdinIsTTY || filter.target !== undefined) return undefined;
  const arg = ctx.positionals[0];
  const dir = resolve(ctx.cwd, arg ?? ".");
  if (arg !== undefined && !statSync(dir, { throwIfNoEntry: false })?.isDirectory()) return undefined;
  const { runCandidates, describeRunTarget } = await import("../../orchestration/project-run.js");
  const { project, matching, built } = await runCandidates(dir, filter, ctx.env);
  if (matching.length < 2 || built.length < 2) return undefined;
  const { chooseOnTerminal } = await import("../choose.js");
  const picked = await chooseOnTerminal(built, {
    heading: `${project.name} has ${built.length} built targets:`,
    question: "run which?",
    describe: describeRunTarget,
    name: (t) => t.name,
    hint: "pass -t NAME",
  });
  return picked.name;
}

const command: CommandDef = {
  name: ["run"],
  summary: "boot a kernel or a project's built target in a VM (QEMU by default)",
  usage: "run [KERNEL|DIR|REF] [options] [-- app args]",
  maxPositionals: 1,
  options: {
    initrd: {
      type: "string",
      valueName: "FILE|DIR",
      description: "initrd file, or a directory packed to CPIO on the fly",
    },
    rootfs: {
      type: "string",
      valueName: "IMAGE|DIR|CPIO",
      description:
        "root filesystem: a disk image on virtio-blk (/dev/vda); a directory (Linux: an ext4 image built at launch) or CPIO archive is the initrd otherwise, as kraft run --rootfs",
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
    "vsock-path": {
      type: "string",
      valueName: "PATH",
      description: "Firecracker: the vsock's host-side Unix socket (default <machine dir>/vsock.sock)",
    },
    "vsock-device": {
      type: "string",
      valueName: "PATH:CID",
      description: "firectl's spelling of --vsock CID --vsock-path PATH",
    },
    "add-drive": {
      type: "string",
      multiple: true,
      valueName: "PATH[:ro|:rw]",
      description:
        "attach another disk image after the root (/dev/vdb, …); writable unless :ro (firectl's flag)",
    },
    "firecracker-binary": {
      type: "string",
      valueName: "PATH",
      description: "Firecracker: run this binary instead of the firecracker on PATH",
    },
    "socket-path": {
      type: "string",
      valueName: "PATH",
      description: "Firecracker: where its API socket is created (default <machine dir>/fc.sock)",
    },
    json: { type: "boolean", description: "with -d: print the machine record as JSON" },
    insecure: {
      type: "boolean",
      description:
        "pulling a package: HTTPS without certificate verification, else plain HTTP (docker's insecure registries)",
    },
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
    "no-start": {
      type: "boolean",
      description:
        "create the machine without starting it; start it later with kiln start NAME (kraft's flag)",
    },
    ip: {
      type: "string",
      valueName: "ADDR[/PREFIX][:GW[:DNS0[:DNS1]]]",
      description:
        "static guest address: Unikraft netdev.ip=, Linux ip= (user network: 10.0.2.4-254, -p forwards go there)",
    },
    mac: {
      type: "string",
      valueName: "MAC",
      description: "the guest NIC's MAC address, e.g. 52:54:00:12:34:56",
    },
    prefix: {
      type: "string",
      valueName: "TEXT",
      description: "foreground: print each console line as 'TEXT | line'",
    },
    "prefix-name": {
      type: "boolean",
      description: "foreground: prefix each console line with the machine name",
    },
  },
  foreignFlags: {
    "--platform": "Kiln's spelling is --plat (kraft's -p is the port here, as in docker)",
    "--runtime": "give the package reference as the argument: kiln run REF (or a runtime: project directory)",
    "--entrypoint": "give the application's arguments after --: kiln run KERNEL -- ARG…",
    "--restart": "Kiln has no restart policy; start it again with kiln start NAME",
    "--memory-size": "Kiln's spelling is -M/--memory",
    "--vcpus": "Kiln's spelling is --cpus",
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
  kiln run -t helloworld_qemu-x86_64 .
  kiln run -W 127.0.0.1:5000/apps/hello:1     # a package: pulled when needed, host architecture
  kiln run -W .                               # a runtime: project: the runtime's kernel, the project's rootfs`,
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
    if (bool(ctx, "no-start")) checkNoStart(ctx);
    if (bool(ctx, "json") && !bool(ctx, "detach") && !bool(ctx, "no-start")) {
      throw usageError(
        "--json needs -d: a foreground run streams the guest's console on stdout",
        "kiln run -d --json … prints the machine record; then kiln wait/logs NAME",
      );
    }
    const linux = str(ctx, "kraftfile") ? undefined : await linuxProjectRun(ctx);
    // A package reference or a `runtime:` project gives files; anything else is planned as before.
    // (Loaded only when the argument is not a file: start-up time is part of every boot.)
    const arg = ctx.positionals[0];
    const pkg =
      linux || (arg !== undefined && isFile(resolve(ctx.cwd, arg)))
        ? undefined
        : await (await import("../../orchestration/package-run.js")).resolvePackageRunTarget(arg, ctx.cwd, {
            env: ctx.env,
            reporter: ctx.reporter,
            signal: ctx.signal,
            insecure: bool(ctx, "insecure"),
            ...optional("platform", str(ctx, "plat")),
            ...optional("architecture", str(ctx, "arch")),
            ...optional("kraftfile", str(ctx, "kraftfile")),
          });
    const filter = {
      target: str(ctx, "target"),
      platform: linux ? undefined : str(ctx, "plat"),
      arch: str(ctx, "arch"),
      kraftfile: str(ctx, "kraftfile"),
    };
    const picked = linux || pkg ? undefined : await promptBuiltTarget(ctx, filter);
    const plan = await planRun({
      target: linux?.kernel ?? (pkg ? pkg.kernel : arg),
      filter: picked !== undefined ? { ...filter, target: picked } : filter,
      cwd: ctx.cwd,
      env: ctx.env,
      network: str(ctx, "network"),
      allowHostLoopback: bool(ctx, "allow-host-loopback"),
      qemuMachine: str(ctx, "qemu-machine"),
      vmm: vmm ?? as ?? linux?.vmm ?? (pkg?.platform === "fc" ? "firecracker" : undefined),
      envVars: [...(pkg?.env ?? []), ...list(ctx, "env")],
      volumes: [
        ...(linux?.volumes ?? []),
        ...(pkg?.project?.volumes ?? []).map((v) => `${v.source}:${v.destination}${v.readonly ? ":ro" : ""}`),
        ...list(ctx, "volume"),
      ],
      initrd: str(ctx, "initrd") ?? pkg?.initrd,
      rootfs: str(ctx, "rootfs") ?? linux?.rootfs ?? pkg?.rootfs,
      memory: str(ctx, "memory") ?? linux?.memory,
      cpus: str(ctx, "cpus") ?? linux?.cpus,
      timeout: str(ctx, "timeout"),
      waitFor: str(ctx, "wait-for"),
      detach: bool(ctx, "detach"),
      kernelArgs: [...(linux?.kernelArgs ?? []), ...(pkg?.kernelArgs ?? []), ...list(ctx, "kernel-arg")],
      appArgs: ctx.rest.length > 0 ? ctx.rest : (pkg?.cmd ?? []),
      publish: [...(linux?.publish ?? []), ...list(ctx, "publish"), ...list(ctx, "port")],
      noAccel: bool(ctx, "no-accel") || bool(ctx, "disable-acceleration"),
      ...vsockFlags(ctx),
      drives: list(ctx, "add-drive"),
      firecrackerBinary: str(ctx, "firecracker-binary"),
      socketPath: str(ctx, "socket-path"),
      ip: str(ctx, "ip"),
      mac: str(ctx, "mac"),
    });
    checkArch(str(ctx, "arch"), plan.base.architecture, plan.base.kernel);
    if (bool(ctx, "symbolic")) plan.base.kernel = symbolicImage(plan.base.kernel);
    for (const w of plan.warnings) ctx.reporter.warn(w);
    // Ctrl-C from here on is Kiln's to handle: main's default would exit at once, leaving a QEMU
    // spawned in its own session (or a record stuck in "starting") behind.
    ctx.claimInterrupts();
    const result = await startRun(plan, ctx, {
      name: str(ctx, "name"),
      autoRemove: bool(ctx, "rm"),
      noStart: bool(ctx, "no-start"),
      ...consolePrefix(ctx),
    });
    if (result.kind === "exited") return result.exitCode;
    if (result.kind === "created") {
      const { record } = result.created;
      ctx.out(bool(ctx, "json") ? `${JSON.stringify(record, null, 2)}\n` : `${record.name}\n`);
      return ExitCode.ok;
    }
    const { record, spec } = result.launched;
    ctx.out(bool(ctx, "json") ? `${JSON.stringify(record, null, 2)}\n` : `${spec.name}\n`);
    return ExitCode.ok;
  },
};

export default command;
