/**
 * The QEMU {@link VmmDriver}: probes acceleration, plans the argv
 * (`argv.ts`), runs QEMU under the supervisor (`supervise.ts`), and stops it
 * over QMP: ACPI `system_powerdown` first (a guest with a power-button
 * handler shuts down cleanly; not for Unikraft, which has none), then `quit`
 * after the timeout, then SIGKILL.
 */

import { existsSync } from "node:fs";
import { chmod, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { KilnError } from "../../core/errors.js";
import { formatArgv, requireTool } from "../../core/exec.js";
import { silentReporter } from "../../core/output.js";
import type {
  GuestExit,
  MachineSpec,
  StartedMachine,
  StartOptions,
  VmmDriver,
  VmmExitContext,
} from "../driver.js";
import { assertQemuCanLoadElf } from "../firecracker/elf-notes.js";
import { hostTscEarlyKhzArg, planLinuxMachine, readKernelFeatures } from "../firecracker/translate.js";
import { checkHostNetwork } from "../network.js";
import { INSTANCE_FILES, processAlive, readVmmLogTail, spawnSupervised } from "../supervise.js";
import { VHOST_VSOCK_DEVICE } from "../vsock.js";
import { resolveAccel } from "./accel.js";
import { buildQemuArgv, chooseMachine, type QemuMachineType, qemuBinary, qemuKernelConfig } from "./argv.js";
import { qmpCommand } from "./qmp.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until `check()` is true, polling every `stepMs`; false on timeout. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  stepMs = 5,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(stepMs);
  }
  return check();
}

/**
 * Whether a Unikraft image was built with `CONFIG_LIBUKRANDOM=y`, which needs
 * the RDSEED instruction at boot (TCG lacks it). Looks at the build's
 * `.config`/`config` beside the image, then for the library's name inside it.
 */
export async function needsRdseed(kernel: string): Promise<boolean> {
  for (const cfg of [
    join(dirname(kernel), ".config"),
    join(dirname(kernel), "config"),
    // `kiln build` keeps each target's configuration as `<project>/.config.<target>`
    // beside `.unikraft/build/<target>`; reading it spares reading the whole image.
    join(dirname(kernel), "..", "..", `.config.${basename(kernel)}`),
    join(dirname(kernel), "..", "..", ".config"),
  ]) {
    try {
      const text = await readFile(cfg, "utf8");
      if (/^CONFIG_LIBUKRANDOM=y$/m.test(text)) return true;
      if (/^# CONFIG_LIBUKRANDOM is not set$/m.test(text)) return false;
    } catch {
      // no such config
    }
  }
  try {
    return (await readFile(kernel)).includes("libukrandom");
  } catch {
    return false;
  }
}

/**
 * Prepare the files of the console's pipe chardev (see `CONSOLE_PIPE` in
 * argv.ts): `console.out`, a link to the empty `console.log` QEMU then
 * writes, and room for the input FIFO, which the supervisor makes (mode
 * 0600) just before QEMU starts: Node has no mkfifo, and a process of its
 * own for it cost every boot a spawn (see bench/startup). Returns the FIFO's path.
 */
async function prepareConsolePipe(dir: string): Promise<string> {
  const input = join(dir, INSTANCE_FILES.consoleInput);
  const output = join(dir, INSTANCE_FILES.consoleOutput);
  // `kiln start` boots a machine again in its directory: the previous run's FIFO and link go first.
  await Promise.all([rm(input, { force: true }), rm(output, { force: true })]);
  // Truncated, not appended to: QEMU's pipe chardev opens console.out without O_APPEND, so a new
  // run would overwrite the old log from its first byte, mixing two boots' text.
  await writeFile(join(dir, INSTANCE_FILES.consoleLog), "", { mode: 0o600, flag: "w" });
  await symlink(INSTANCE_FILES.consoleLog, output);
  return input;
}

/**
 * Whether the machine's guest acts on the ACPI power button. Unikraft has no
 * handler for it (no ACPI event code in its tree up to 0.17, whatever the
 * image's configuration), so `system_powerdown` would only wait out the
 * timeout: it is stopped with `quit` at once. Linux guests power off.
 */
async function handlesPowerButton(dir: string): Promise<boolean> {
  try {
    const spec = JSON.parse(await readFile(join(dir, INSTANCE_FILES.spec), "utf8")) as Partial<MachineSpec>;
    return spec.guest !== "unikraft";
  } catch {
    return true;
  }
}

/** Options for the QEMU driver beyond the spec. */
export interface QemuDriverOptions {
  /** Machine type override (e.g. `microvm` for Firecracker-style kernels). */
  machine?: QemuMachineType;
  /** QEMU binary override (tests, benchmarks). */
  binary?: string;
}

/** Create the QEMU driver. */
export function qemuDriver(options: QemuDriverOptions = {}): VmmDriver {
  return {
    name: "qemu",
    async available(spec: MachineSpec) {
      requireTool(options.binary ?? qemuBinary(spec.architecture), `run ${spec.architecture} machines`);
      // An x86 ELF with neither Multiboot nor the PVH note (Unikraft's fc images) fails obscurely in QEMU.
      if (spec.kernelKind === "elf" && spec.architecture === "x86_64")
        await assertQemuCanLoadElf(spec.kernel);
      checkHostNetwork(spec);
    },
    async start(spec, dir, opts: StartOptions = {}): Promise<StartedMachine> {
      const reporter = opts.reporter ?? silentReporter;
      // Independent reads of the accel cache, the kernel and its config run together: they are on
      // every boot's path to the QEMU spawn (see bench/boot).
      const linuxPc =
        options.machine === undefined && spec.guest === "linux" && spec.architecture === "x86_64";
      const [{ accel, probe }, rdseed, linuxPlan] = await Promise.all([
        resolveAccel(spec.accel, spec.architecture, options.binary, opts.env),
        spec.guest === "unikraft" && spec.accel !== "kvm" ? needsRdseed(spec.kernel) : false,
        linuxPc ? readKernelFeatures(spec.kernel).then(planLinuxMachine) : undefined,
      ]);
      if (spec.accel === "kvm" && accel !== "kvm") {
        throw new KilnError(
          "KVM_UNUSABLE",
          `KVM was requested but does not work here: ${probe?.reason ?? "unknown reason"}`,
          {
            hint: "run without acceleration: kiln run -W …, or KILN_ACCEL=tcg for every run (kiln doctor shows the probe)",
          },
        );
      }
      if (spec.accel === "auto" && accel === "tcg" && probe) {
        reporter.info(
          `notice: KVM is not usable (${probe.reason}); using TCG emulation (slower). -W or KILN_ACCEL=tcg skips this check.`,
        );
      }
      if (accel === "tcg" && rdseed) {
        reporter.warn(
          `${spec.kernel} was built with CONFIG_LIBUKRANDOM=y, which needs RDSEED; TCG does not provide it and the guest may crash at boot. Rebuild with "# CONFIG_LIBUKRANDOM is not set".`,
        );
      }
      // Linux on x86_64: microvm when the kernel's configuration shows it can find
      // virtio-mmio devices there, else pc (Debian's stock kernel); see planLinuxMachine.
      const machine = linuxPlan?.machine ?? options.machine;
      const microvmAcpi = linuxPlan ? !linuxPlan.machineOption.includes("acpi=off") : undefined;
      // microvm has no HPET/PM timer: give a TCG guest the TSC rate (see tscEarlyKhzArg).
      const tsc =
        machine === "microvm" && accel === "tcg" && spec.guest === "linux"
          ? await hostTscEarlyKhzArg(spec.kernelArgs)
          : undefined;
      const argv = buildQemuArgv(tsc ? { ...spec, kernelArgs: [...spec.kernelArgs, tsc] } : spec, {
        accel,
        instanceDir: dir,
        machine,
        microvmAcpi,
        binary: options.binary,
        ...(spec.vsock ? { vhostVsock: existsSync(VHOST_VSOCK_DEVICE) } : {}),
      });
      const kernelConfig = qemuKernelConfig(
        tsc ? { ...spec, kernelArgs: [...spec.kernelArgs, tsc] } : spec,
        chooseMachine(spec, machine),
      );
      if (kernelConfig !== undefined && "text" in kernelConfig)
        await writeFile(join(dir, INSTANCE_FILES.kernelConfig), kernelConfig.text, { mode: 0o600 });
      else if (kernelConfig !== undefined)
        reporter.warn(
          `the -e values are visible in QEMU's command line (ps) because ${kernelConfig.visibleBecause}; pass secrets another way (a file in the root filesystem)`,
        );
      const consoleInput = await prepareConsolePipe(dir);
      const sup = await spawnSupervised(argv, dir, opts.env, opts.watch, { fifo: consoleInput });
      let ended = false;
      void sup.exited.then(() => {
        ended = true;
      });
      const pidfile = join(dir, INSTANCE_FILES.pidfile);
      const qmp = join(dir, INSTANCE_FILES.qmpSocket);
      await waitUntil(() => ended || (existsSync(pidfile) && existsSync(qmp)), 20_000);
      const pid = ended
        ? undefined
        : Number.parseInt((await readFile(pidfile, "utf8").catch(() => "")).trim(), 10);
      if (ended || pid === undefined || Number.isNaN(pid)) {
        const status = ended ? await sup.exited : undefined;
        const log = await readVmmLogTail(dir);
        const said = qemuErrorLine(log);
        // A guest that powers off at once can end QEMU (which then removes its pidfile and socket)
        // before Kiln, slow under load, has seen them. QEMU that cannot start says why on stderr
        // (and a shell that cannot run it exits 126/127); a power-off (0), or an ending with
        // nothing said (isa-debug-exit's odd statuses), is a guest that ran: started, already gone.
        if (
          status !== undefined &&
          (status === 0 || (said === undefined && status !== 126 && status !== 127))
        ) {
          return {
            pid: sup.supervisorPid,
            consoleLog: join(dir, INSTANCE_FILES.consoleLog),
            consoleInput,
            accel,
            argv,
          };
        }
        // The message carries QEMU's own words: it is also the record's reason `kiln ps -a` shows.
        throw new KilnError(
          "VMM_START_FAILED",
          `QEMU did not start machine ${spec.name}${status !== undefined ? ` (exit status ${status})` : ""}${said ? `: ${said}` : ""}`,
          {
            details: [
              `command: ${formatArgv(argv)}`,
              "QEMU's output (vmm.log):",
              ...log.map((l) => `  | ${l}`),
            ],
          },
        );
      }
      // QEMU creates its sockets 0777 & ~umask (0700 under the supervisor's umask 077); a socket needs no x bit.
      await chmod(qmp, 0o600).catch(() => {});
      return {
        pid,
        consoleLog: join(dir, INSTANCE_FILES.consoleLog),
        consoleInput,
        accel,
        argv,
      };
    },
    async stop(dir, pid, { timeoutMs }) {
      const qmp = join(dir, INSTANCE_FILES.qmpSocket);
      const gone = () => !processAlive(pid);
      if (gone()) return;
      if (await handlesPowerButton(dir)) {
        await qmpCommand(qmp, "system_powerdown").catch(() => {});
        if (await waitUntil(gone, timeoutMs, 50)) return;
      }
      await qmpCommand(qmp, "quit").catch(() => {});
      if (await waitUntil(gone, 3000, 20)) return;
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
      await waitUntil(gone, 3000, 20);
    },
    guestExit: qemuGuestExit,
  };
}

/**
 * QEMU's own explanation in the last lines of its stderr (`vmm.log`): the last
 * line that is not a warning, without the `qemu-system-x86_64: ` prefix QEMU
 * puts on every message (error_report()); undefined if it said nothing.
 */
export function qemuErrorLine(logTail: readonly string[]): string | undefined {
  const line = [...logTail].reverse().find((l) => !/^\S*: warning: /.test(l.trim()));
  return line?.trim().replace(/^qemu-system-[\w-]+: /, "");
}

/**
 * How a QEMU guest ended. QEMU exits 0 on ACPI power-off and, with
 * `-no-reboot`, on a guest reset; `isa-debug-exit` (Unikraft guests only,
 * see argv.ts) makes it exit with `(code << 1) | 1`; 128+N means QEMU was
 * killed by signal N; QEMU's own errors exit 1 after a message on stderr
 * (`vmm.log`, given in `vmm.logTail`). A Linux panic (`panic=-1` resets at
 * once) is recognized in the console log.
 */
export function qemuGuestExit(
  status: { exitCode: number | null; signal: string | null },
  consoleTail: string,
  vmm?: VmmExitContext,
): GuestExit {
  const panic = /Kernel panic - not syncing: ?(.*)/.exec(consoleTail);
  if (panic) return { exitCode: 1, reason: `kernel panic: ${panic[1]?.trim() ?? ""}`.trim() };
  const code = status.exitCode;
  if (status.signal) return { exitCode: 128 + 9, reason: `QEMU was killed by ${status.signal}` };
  if (code === 0) {
    if (/reboot: Restarting system/.test(consoleTail)) return { exitCode: 0, reason: "rebooted" };
    // Planned with the shutdown trace (argv.ts) but none recorded: the guest reset the machine
    // (a triple fault, a truncated kernel, too little memory), which is no clean power-off.
    // QEMU ends on SIGTERM/SIGINT/SIGHUP with status 0 too, saying so (qemu_system_killed).
    const killed = (vmm?.logTail ?? []).map((l) => /terminating on signal (\d+)/.exec(l)).find(Boolean);
    if (killed)
      return { exitCode: 128 + Number(killed[1]), reason: `QEMU was stopped by signal ${killed[1]}` };
    const traced = vmm?.argv?.includes("qemu_system_shutdown_request") === true;
    if (traced && vmm?.events !== undefined && !/qemu_system_shutdown_request/.test(vmm.events))
      return {
        exitCode: 1,
        reason: "the guest reset the machine (a crash or a failed boot, not a power-off)",
      };
    return { exitCode: 0, reason: /Unikraft halted/.test(consoleTail) ? "halted" : "powered off" };
  }
  if (code === null) return { exitCode: 1, reason: "ended (status unknown)" };
  if (code > 128) return { exitCode: code, reason: `QEMU was killed by signal ${code - 128}` };
  // Without a recorded argv (older records), assume the device may be there.
  const debugExit = vmm?.argv?.some((a) => a.startsWith("isa-debug-exit")) ?? true;
  const qemuSaid = qemuErrorLine(vmm?.logTail ?? []);
  // A guest's isa-debug-exit status is odd and >1; 1 is also every QEMU error's status.
  if (qemuSaid !== undefined && (code === 1 || !debugExit))
    return { exitCode: 1, reason: `QEMU failed (status ${code}): ${qemuSaid}` };
  if (!debugExit) return { exitCode: code, reason: `QEMU exited with status ${code}` };
  // Unikraft's own values (plat/common/x86/cpu_native.c): 42 on a crash, 41 when ACPI power-off failed.
  // Releases up to 0.15 also end a non-zero main() as a crash (lib/ukboot/boot.c: "main returned
  // %d, halting system", then UKPLAT_CRASH); with info-level messages on, the console says so.
  if (code === 85) {
    const main = [...consoleTail.matchAll(/main returned (-?\d+)/g)].at(-1);
    const rc = main ? Number(main[1]) : 0;
    if (rc !== 0)
      return {
        exitCode: rc & 0xff || 1,
        reason: `the application returned ${rc} (Unikraft ends a non-zero main as a crash, isa-debug-exit 42)`,
      };
    return {
      exitCode: 1,
      reason: "Unikraft crashed, or its application returned non-zero (isa-debug-exit 42)",
    };
  }
  if (code === 83) return { exitCode: 0, reason: "halted (isa-debug-exit 41)" };
  if (code === 1)
    return {
      exitCode: 1,
      reason: "QEMU exited with status 1 (a QEMU error, or the guest wrote 0 to isa-debug-exit)",
    };
  if (code % 2 === 1) {
    const guest = (code - 1) / 2;
    return { exitCode: guest, reason: `exited with code ${guest}` };
  }
  return { exitCode: code, reason: `QEMU exited with status ${code}` };
}
