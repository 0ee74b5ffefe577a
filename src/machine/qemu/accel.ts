/**
 * Is KVM usable? Found by running guest code, not by looking at `/dev/kvm`
 * nor by creating a stopped vCPU (issue 8). Hosts fail in different ways:
 * - QEMU aborts when it resets a vCPU ("failed to set MSR 0x10a") on some
 *   nested or restricted VMs;
 * - on a PVM host (`kvm_pvm` loaded; the host is itself a microVM) an ordinary
 *   guest starts, its firmware prints, and then it runs thousands of times
 *   slower than TCG: Debian's kernel sits in its decompressor "for ever";
 * - no `/dev/kvm`, or no permission on it.
 * So the probe boots a tiny guest of Kiln's own ({@link x86ProbeGuest}) with
 * `-accel kvm -cpu host`, the accelerator and CPU model `kiln run` uses: it
 * must reach 64-bit long mode with paging on, copy 4 MiB byte by byte, print
 * {@link PROBE_MARKER} and exit through `isa-debug-exit` within
 * {@link PROBE_DEADLINE_MS}, or KVM does not count. About 0.1 s on a working
 * host; cached per boot and QEMU binary. Cross-architecture guests (arm64 on
 * x86_64) never use KVM.
 */
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, readFile, stat } from "node:fs/promises";
import { arch } from "node:os";
import { join } from "node:path";
import { errnoCode } from "../../core/errors.js";
import { tail, which } from "../../core/exec.js";
import { writeFileAtomic } from "../../core/fs.js";
import { kilnDirs } from "../../core/paths.js";
import type { AccelRequest, MachineArch } from "../driver.js";
import { qemuBinary } from "./argv.js";
import {
  arm64ProbeGuest,
  PROBE_DEBUG_EXIT_PORT,
  PROBE_MARKER,
  PROBE_X86_NOLM,
  PROBE_X86_PASS,
  x86ProbeGuest,
} from "./probe-guest.js";

export interface AccelProbe {
  usable: boolean;
  /** Why KVM is not usable (QEMU's own words, or what the probe saw), in one line. */
  reason?: string;
  /** How long the probe guest ran, when it ran. */
  durationMs?: number;
}

/** How long the probe guest may take under KVM before KVM is judged unusable. */
export const PROBE_DEADLINE_MS = 2000;

/**
 * Changes whenever the probe itself changes, so a verdict cached by an older
 * probe (which passed PVM hosts) is not reused.
 */
const PROBE_VERSION = 2;

const KVM_DEVICE = "/dev/kvm";
const PVM_MODULE = "/sys/module/kvm_pvm";

const cache = new Map<string, Promise<AccelProbe>>();

/** The host's architecture in Kiln's words, if Kiln runs guests of it. */
export function hostArch(): MachineArch | undefined {
  const a = arch();
  return a === "x64" ? "x86_64" : a === "arm64" ? "arm64" : undefined;
}

/** What one run of the probe guest did (the input of {@link judgeProbe}). */
export interface ProbeRun {
  architecture: MachineArch;
  /** QEMU's exit status, null when killed. */
  exitCode: number | null;
  /** The guest's serial output. */
  serial: string;
  /** QEMU's stderr. */
  stderr: string;
  /** Killed at the deadline. */
  timedOut: boolean;
  deadlineMs: number;
  durationMs: number;
  /** The spawn itself failed (ENOENT…). */
  spawnError?: string;
  /** `kvm_pvm` is loaded on this host. */
  pvm: boolean;
}

/** The exit status QEMU reports when the x86 guest writes `v` to isa-debug-exit. */
const debugExitStatus = (v: number) => (v << 1) | 1;

/**
 * The verdict on one run of the probe guest (pure): usable only when the
 * guest printed the marker and exited as it does on success.
 */
export function judgeProbe(run: ProbeRun): AccelProbe {
  const pvmNote = run.pvm ? " (kvm_pvm loaded: this host's KVM runs only PVM guests at full speed)" : "";
  if (run.spawnError !== undefined) return { usable: false, reason: run.spawnError };
  const passStatus = run.architecture === "x86_64" ? debugExitStatus(PROBE_X86_PASS) : 0;
  if (!run.timedOut && run.exitCode === passStatus && run.serial.includes(PROBE_MARKER)) {
    return { usable: true, durationMs: run.durationMs };
  }
  if (run.timedOut) {
    const seconds = `${run.deadlineMs / 1000} s`;
    const what = run.serial.includes(PROBE_MARKER)
      ? `the probe guest did not exit within ${seconds}`
      : run.architecture === "x86_64"
        ? `the probe guest did not reach long mode and finish its work within ${seconds}`
        : `the probe guest did not run within ${seconds}`;
    return { usable: false, reason: `${what}${pvmNote}`, durationMs: run.durationMs };
  }
  if (run.architecture === "x86_64" && run.exitCode === debugExitStatus(PROBE_X86_NOLM)) {
    return {
      usable: false,
      reason: "the probe guest ran but long mode was not active",
      durationMs: run.durationMs,
    };
  }
  // QEMU's first error line says why ("failed to set MSR …"); the abort that follows does not.
  const lines = tail(run.stderr.replace(/^.*warning:.*$/gm, ""), 5);
  const said = (lines.find((l) => / error: /.test(l)) ?? lines[lines.length - 1])?.replace(
    /^qemu-system-\w+: (error: )?/,
    "",
  );
  const status = run.exitCode === null ? "was killed" : `exited with status ${run.exitCode}`;
  return {
    usable: false,
    reason: said ? `QEMU aborted: ${said}` : `the probe guest's QEMU ${status} without the marker${pvmNote}`,
    durationMs: run.durationMs,
  };
}

/** Why KVM cannot even be tried here (no device, no permission), or undefined. Pure apart from `access`. */
export async function kvmDeviceProblem(
  device = KVM_DEVICE,
  check: (path: string, mode: number) => Promise<void> = access,
): Promise<string | undefined> {
  try {
    await check(device, constants.R_OK | constants.W_OK);
    return undefined;
  } catch (e) {
    const code = errnoCode(e);
    if (code === "ENOENT")
      return `no ${device} (KVM is not enabled on this host, or its module is not loaded)`;
    if (code === "EACCES" || code === "EPERM")
      return `permission denied on ${device} (add yourself to group kvm: sudo adduser $USER kvm, then log in again)`;
    return `${device} cannot be opened: ${code ?? String(e)}`;
  }
}

/** The argv that boots the probe guest `image` (the test suite runs it under TCG too). */
export function probeArgv(architecture: MachineArch, image: string, accel: "kvm" | "tcg"): string[] {
  const cpu = accel === "kvm" ? "host" : "max";
  const common = ["-accel", accel, "-cpu", cpu, "-m", "32", "-nodefaults", "-no-user-config"];
  const io = ["-display", "none", "-serial", "stdio", "-no-reboot", "-kernel", image];
  if (architecture === "arm64") {
    const gic = accel === "kvm" ? "virt,gic-version=host" : "virt";
    return ["-machine", gic, ...common, ...io];
  }
  return [
    "-machine",
    "microvm",
    ...common,
    "-device",
    `isa-debug-exit,iobase=0x${PROBE_DEBUG_EXIT_PORT.toString(16)},iosize=0x04`,
    ...io,
  ];
}

/** The probe guest's image file, written once into the cache. */
async function probeImage(architecture: MachineArch, cacheDir: string): Promise<string> {
  const bytes = architecture === "arm64" ? arm64ProbeGuest() : x86ProbeGuest();
  const file = join(cacheDir, `accel-probe-v${PROBE_VERSION}-${architecture}.img`);
  const have = await readFile(file).catch(() => undefined);
  if (!have?.equals(bytes)) await writeFileAtomic(file, bytes);
  return file;
}

/**
 * Boot the probe guest once with `accel` and report what happened. Exported
 * for the tests, which boot it under TCG on every machine.
 */
export async function runProbeGuest(
  architecture: MachineArch,
  binary: string,
  accel: "kvm" | "tcg",
  opts: { cacheDir: string; deadlineMs?: number; pvm?: boolean },
): Promise<ProbeRun> {
  const deadlineMs = opts.deadlineMs ?? PROBE_DEADLINE_MS;
  const image = await probeImage(architecture, opts.cacheDir);
  const started = Date.now();
  const base = { architecture, deadlineMs, pvm: opts.pvm ?? false };
  return new Promise((resolve) => {
    let serial = "";
    let stderr = "";
    let timedOut = false;
    const child = spawn(binary, probeArgv(architecture, image, accel), {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, deadlineMs);
    child.stdout.on("data", (c: Buffer) => {
      serial += c.toString("latin1");
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({
        ...base,
        exitCode: null,
        serial,
        stderr,
        timedOut: false,
        durationMs: 0,
        spawnError: e.message,
      });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ ...base, exitCode: code, serial, stderr, timedOut, durationMs: Date.now() - started });
    });
  });
}

/**
 * Try KVM with the QEMU for `architecture`. Cached per process, and on disk
 * (`cacheDir`/kvm-probe.json) for the current boot (`/proc/sys/kernel/random/boot_id`),
 * the same QEMU binary (path and mtime) and the same probe: whether KVM works
 * does not change until a reboot or a QEMU upgrade.
 */
export function probeKvm(
  architecture: MachineArch,
  binary = qemuBinary(architecture),
  env: NodeJS.ProcessEnv = process.env,
): Promise<AccelProbe> {
  if (hostArch() !== architecture) {
    return Promise.resolve({ usable: false, reason: `a ${architecture} guest on a ${arch()} host` });
  }
  let p = cache.get(binary);
  if (!p) {
    const { cacheDir } = kilnDirs(env);
    p = cachedOnDisk(binary, cacheDir, async () => {
      const problem = await kvmDeviceProblem();
      if (problem) return { usable: false, reason: problem };
      const pvm = await access(PVM_MODULE).then(
        () => true,
        () => false,
      );
      return judgeProbe(await runProbeGuest(architecture, binary, "kvm", { cacheDir, pvm }));
    });
    cache.set(binary, p);
  }
  return p;
}

async function cachedOnDisk(
  binary: string,
  cacheDir: string,
  probe: () => Promise<AccelProbe>,
): Promise<AccelProbe> {
  let key: string;
  const file = join(cacheDir, "kvm-probe.json");
  // The three reads are independent; together they are on every `kiln run`'s path to QEMU.
  const savedText = readFile(file, "utf8").catch(() => undefined);
  try {
    const path = which(binary) ?? binary;
    const [bootId, info] = await Promise.all([
      readFile("/proc/sys/kernel/random/boot_id", "utf8"),
      stat(path),
    ]);
    key = `v${PROBE_VERSION} ${bootId.trim()} ${path} ${info.mtimeMs}`;
  } catch {
    return probe();
  }
  try {
    const text = await savedText;
    const saved = text === undefined ? undefined : (JSON.parse(text) as { key: string; probe: AccelProbe });
    if (saved?.key === key) return saved.probe;
  } catch {
    // no cache yet, or a damaged one: probe again
  }
  const result = await probe();
  await writeFileAtomic(file, `${JSON.stringify({ key, probe: result })}\n`).catch(() => {});
  return result;
}

/**
 * The acceleration to use for a request: `tcg` as asked, `kvm` if it works
 * (else an error is the caller's business), `auto` = KVM when usable.
 */
export async function resolveAccel(
  request: AccelRequest,
  architecture: MachineArch,
  binary?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ accel: "kvm" | "tcg"; probe?: AccelProbe }> {
  // A cross-architecture guest has no KVM to fall back from: no probe, no notice.
  if (request === "tcg" || hostArch() !== architecture) return { accel: "tcg" };
  const probe = await probeKvm(architecture, binary, env);
  return { accel: probe.usable ? "kvm" : "tcg", probe };
}
