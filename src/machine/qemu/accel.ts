/**
 * Is KVM usable? Found by trying it, not by looking at `/dev/kvm`: on some
 * hosts (nested or restricted VMs) the device exists and opens, but QEMU
 * aborts when it resets a vCPU ("failed to set MSR 0x10a", then an assertion).
 * The probe creates a tiny stopped `microvm` with `-cpu host` under KVM, which
 * creates and resets a vCPU, and quits over QMP on stdin: about 0.1 s, cached
 * per process. Cross-architecture guests (arm64 on x86_64) never use KVM.
 */
import { spawn } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { arch } from "node:os";
import { join } from "node:path";
import { tail, which } from "../../core/exec.js";
import { writeFileAtomic } from "../../core/fs.js";
import { kilnDirs } from "../../core/paths.js";
import type { AccelRequest, MachineArch } from "../driver.js";
import { qemuBinary } from "./argv.js";

export interface AccelProbe {
  usable: boolean;
  /** Why KVM is not usable (QEMU's own words, or the reason it was not tried). */
  reason?: string;
}

const cache = new Map<string, Promise<AccelProbe>>();

function hostArch(): MachineArch | undefined {
  const a = arch();
  return a === "x64" ? "x86_64" : a === "arm64" ? "arm64" : undefined;
}

/**
 * Try KVM with the QEMU for `architecture`. Cached per process, and on disk
 * (`cacheDir`/kvm-probe.json) for the current boot (`/proc/sys/kernel/random/boot_id`)
 * and the same QEMU binary (path and mtime): whether KVM works does not change
 * until a reboot or a QEMU upgrade, and the probe costs ~0.1 s of every `kiln run`.
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
    p = cachedOnDisk(binary, env, () => runProbe(binary, architecture));
    cache.set(binary, p);
  }
  return p;
}

async function cachedOnDisk(
  binary: string,
  env: NodeJS.ProcessEnv,
  probe: () => Promise<AccelProbe>,
): Promise<AccelProbe> {
  let key: string;
  const file = join(kilnDirs(env).cacheDir, "kvm-probe.json");
  // The three reads are independent; together they are on every `kiln run`'s path to QEMU.
  const savedText = readFile(file, "utf8").catch(() => undefined);
  try {
    const path = which(binary) ?? binary;
    const [bootId, info] = await Promise.all([
      readFile("/proc/sys/kernel/random/boot_id", "utf8"),
      stat(path),
    ]);
    key = `${bootId.trim()} ${path} ${info.mtimeMs}`;
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

function runProbe(binary: string, architecture: MachineArch): Promise<AccelProbe> {
  const machine = architecture === "arm64" ? "virt,gic-version=host" : "microvm";
  const argv = [
    "-accel",
    "kvm",
    "-machine",
    machine,
    "-cpu",
    "host",
    "-m",
    "16",
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-S",
    "-qmp",
    "stdio",
  ];
  return new Promise((resolve) => {
    let stderr = "";
    const child = spawn(binary, argv, { stdio: ["pipe", "ignore", "pipe"] });
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.stdin.on("error", () => {});
    child.stdin.end('{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n');
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ usable: false, reason: e.message });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ usable: true });
      else {
        // QEMU's first error line says why ("failed to set MSR …"); the abort that follows does not.
        const lines = tail(stderr.replace(/^.*warning:.*$/gm, ""), 5);
        const why = (lines.find((l) => / error: /.test(l)) ?? lines[lines.length - 1])?.replace(
          /^qemu-system-\w+: (error: )?/,
          "",
        );
        resolve({
          usable: false,
          reason: why ?? (signal ? `QEMU was killed by ${signal}` : `QEMU exited with ${code}`),
        });
      }
    });
  });
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
