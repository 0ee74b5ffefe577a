/**
 * `kiln doctor`: what this host can do and why, in one report — QEMU per
 * architecture, whether KVM is usable (the probe's reason), the accelerator
 * `kiln run` will use, firmware and option ROMs, the tools each feature needs
 * (with the Debian package that provides each missing one), and the Unikraft
 * source cache and mirrors. It composes the machine and unikraft domains, so
 * it lives in the orchestration layer. {@link gatherDoctor} does the looking;
 * {@link formatDoctor} is pure.
 */
import { access, readdir } from "node:fs/promises";
import { arch, cpus, release } from "node:os";
import { join } from "node:path";
import { exec, which } from "../core/exec.js";
import { kilnDirs } from "../core/paths.js";
import { readAccelSetting } from "../machine/accel-setting.js";
import type { MachineArch } from "../machine/driver.js";
import { hostArch, probeKvm } from "../machine/qemu/accel.js";
import { qemuBinary } from "../machine/qemu/argv.js";
import { describeMirror, loadMirrors } from "../unikraft/sources/mirrors.js";

/** One QEMU system emulator. */
export interface DoctorQemu {
  architecture: MachineArch;
  binary: string;
  path?: string;
  version?: string;
  package: string;
}

/** One file QEMU loads for x86 guests. */
export interface DoctorFirmware {
  file: string;
  neededFor: string;
  path?: string;
  package: string;
}

/** One feature and the tools it needs. */
export interface DoctorFeature {
  feature: string;
  /** Tools found (name → path) and missing (name → Debian package). */
  found: Record<string, string>;
  missing: Record<string, string>;
  ok: boolean;
}

/** Everything `kiln doctor` reports (its `--json` document, with `ok`). */
export interface DoctorReport {
  ok: boolean;
  host: { architecture: string; kernel: string; cpus: number };
  qemu: DoctorQemu[];
  kvm: { usable: boolean; reason?: string; probeMs?: number; device: boolean; pvm: boolean };
  accel: { setting: string; source: string; willUse: "kvm" | "tcg" };
  firmware: DoctorFirmware[];
  features: DoctorFeature[];
  unikraft: { sourcesCache: string; cachedSources: number; mirrors: { mirror: string; exists: boolean }[] };
  /** What keeps `kiln run` from booting guests here (empty when ok). */
  problems: string[];
}

const QEMU_PACKAGE: Record<MachineArch, string> = { x86_64: "qemu-system-x86", arm64: "qemu-system-arm" };

/** Where Debian's and upstream QEMU look for firmware (`-L` search path). */
const FIRMWARE_DIRS = [
  "/usr/share/qemu",
  "/usr/share/seabios",
  "/usr/lib/ipxe/qemu",
  "/usr/local/share/qemu",
];

const FIRMWARE: Omit<DoctorFirmware, "path">[] = [
  {
    file: "bios-256k.bin",
    neededFor: "-M pc (SeaBIOS): Debian's stock kernel, Unikraft qemu images",
    package: "seabios",
  },
  { file: "bios-microvm.bin", neededFor: "-M microvm: Linux microVM kernels", package: "qemu-system-data" },
  {
    file: "linuxboot_dma.bin",
    neededFor: "-kernel with a Linux bzImage on -M pc",
    package: "qemu-system-data",
  },
  {
    file: "multiboot_dma.bin",
    neededFor: "-kernel with a Multiboot image (Unikraft)",
    package: "qemu-system-data",
  },
  {
    file: "pvh.bin",
    neededFor: "-kernel with a PVH ELF (Firecracker-style vmlinux)",
    package: "qemu-system-data",
  },
  { file: "efi-virtio.rom", neededFor: "virtio-net on -M pc (-p, --network)", package: "ipxe-qemu" },
];

/** Features and their tools (tool → Debian package). */
const FEATURES: { feature: string; tools: Record<string, string> }[] = [
  {
    feature: "rootfs ext4 images",
    tools: { "mkfs.ext4": "e2fsprogs", debugfs: "e2fsprogs", e2fsck: "e2fsprogs" },
  },
  { feature: "rootfs EROFS images", tools: { "mkfs.erofs": "erofs-utils" } },
  { feature: "rootfs from debian:/ubuntu:SUITE", tools: { mmdebstrap: "mmdebstrap" } },
  {
    feature: "Unikraft builds (x86_64)",
    tools: { make: "make", gcc: "gcc", git: "git", flex: "flex", bison: "bison" },
  },
  { feature: "arm64 builds (Unikraft, Linux)", tools: { "aarch64-linux-gnu-gcc": "gcc-aarch64-linux-gnu" } },
  {
    feature: "Linux kernel builds",
    tools: { make: "make", gcc: "gcc", flex: "flex", bison: "bison", bc: "bc" },
  },
  { feature: "OCI interop checks (skopeo, umoci)", tools: { skopeo: "skopeo", umoci: "umoci" } },
  { feature: "the examples' busybox guests", tools: { busybox: "busybox-static" } },
  { feature: "Firecracker (--vmm firecracker)", tools: { firecracker: "" } },
];

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function qemuInfo(architecture: MachineArch, env: NodeJS.ProcessEnv): Promise<DoctorQemu> {
  const binary = qemuBinary(architecture);
  const path = which(binary, env.PATH ?? "");
  const out: DoctorQemu = { architecture, binary, package: QEMU_PACKAGE[architecture] };
  if (!path) return out;
  const r = await exec([path, "--version"], { allowFailure: true, timeoutMs: 10_000 }).catch(() => undefined);
  const version = r?.stdout.match(/version (\S+)/)?.[1];
  return { ...out, path, ...(version ? { version } : {}) };
}

async function firmwarePath(file: string): Promise<string | undefined> {
  for (const dir of FIRMWARE_DIRS) if (await exists(join(dir, file))) return join(dir, file);
  return undefined;
}

/** Look at this host (runs the KVM probe, cached as for `kiln run`). */
export async function gatherDoctor(env: NodeJS.ProcessEnv = process.env): Promise<DoctorReport> {
  const host = hostArch();
  const problems: string[] = [];
  const [qemu, setting, firmware, sourcesCached, mirrors] = await Promise.all([
    Promise.all((["x86_64", "arm64"] as MachineArch[]).map((a) => qemuInfo(a, env))),
    readAccelSetting(env).catch((e: Error) => {
      problems.push(e.message);
      return { request: "auto" as const, source: "default" };
    }),
    Promise.all(FIRMWARE.map(async (f) => ({ ...f, path: await firmwarePath(f.file) }))),
    readdir(join(kilnDirs(env).cacheDir, "sources")).then(
      (names) => names.length,
      () => 0,
    ),
    loadMirrors({ env }).catch(() => []),
  ]);
  const hostQemu = qemu.find((q) => q.architecture === host);
  const device = await exists("/dev/kvm");
  const pvm = await exists("/sys/module/kvm_pvm");
  let kvm: DoctorReport["kvm"] = {
    usable: false,
    device,
    pvm,
    reason: "no QEMU for this host's architecture",
  };
  if (host && hostQemu?.path) {
    const p = await probeKvm(host, hostQemu.binary, env);
    kvm = {
      usable: p.usable,
      device,
      pvm,
      ...(p.reason ? { reason: p.reason } : {}),
      ...(p.durationMs !== undefined ? { probeMs: p.durationMs } : {}),
    };
  } else if (!host) {
    kvm.reason = `Kiln runs no guests of this host's architecture (${arch()})`;
  }
  const willUse = setting.request === "tcg" || !kvm.usable ? "tcg" : "kvm";
  if (setting.request === "kvm" && !kvm.usable)
    problems.push(`accel is pinned to kvm (${setting.source}) but KVM is not usable: ${kvm.reason}`);
  if (!hostQemu?.path)
    problems.push(
      `${qemuBinary(host ?? "x86_64")} is missing: apt-get install ${QEMU_PACKAGE[host ?? "x86_64"]}`,
    );
  if (host === "x86_64") {
    for (const f of firmware)
      if (!f.path && f.file !== "efi-virtio.rom")
        problems.push(`QEMU firmware ${f.file} is missing (${f.neededFor}): apt-get install ${f.package}`);
  }
  const features: DoctorFeature[] = FEATURES.map(({ feature, tools }) => {
    const found: Record<string, string> = {};
    const missing: Record<string, string> = {};
    for (const [tool, pkg] of Object.entries(tools)) {
      const p = which(tool, env.PATH ?? "");
      if (p) found[tool] = p;
      else missing[tool] = pkg;
    }
    return { feature, found, missing, ok: Object.keys(missing).length === 0 };
  });
  const mirrorList = await Promise.all(
    mirrors.map(async (m) => ({
      mirror: describeMirror(m),
      exists: m.kind === "dir" ? await exists(m.path) : true,
    })),
  );
  return {
    ok: problems.length === 0,
    host: { architecture: host ?? arch(), kernel: release(), cpus: cpus().length },
    qemu,
    kvm,
    accel: { setting: setting.request, source: setting.source, willUse },
    firmware,
    features,
    unikraft: {
      sourcesCache: join(kilnDirs(env).cacheDir, "sources"),
      cachedSources: sourcesCached,
      mirrors: mirrorList,
    },
    problems,
  };
}

/** The report as text (pure): one screen, a line per fact, the fix beside each missing piece. */
export function formatDoctor(r: DoctorReport, mark = { ok: "ok", bad: "!!", off: "--" }): string {
  const lines: string[] = [];
  const row = (label: string, text: string) => lines.push(`${label.padEnd(10)} ${text}`);
  row("host", `${r.host.architecture}, Linux ${r.host.kernel}, ${r.host.cpus} CPUs`);
  for (const q of r.qemu)
    row(
      `qemu`,
      q.path
        ? `${mark.ok} ${q.architecture}: ${q.path} (QEMU ${q.version ?? "version unknown"})`
        : `${mark.off} ${q.architecture}: ${q.binary} missing (apt-get install ${q.package})`,
    );
  row(
    "kvm",
    r.kvm.usable
      ? `${mark.ok} usable (probe guest ran in ${r.kvm.probeMs ?? "?"} ms)`
      : `${mark.off} not usable: ${r.kvm.reason ?? "unknown"}`,
  );
  row(
    "accel",
    `kiln run uses ${r.accel.willUse.toUpperCase()} (setting ${r.accel.setting}, from ${r.accel.source}; -W or KILN_ACCEL=tcg|kvm|auto, or accel: in config.yaml)`,
  );
  const fwFound = r.firmware.filter((f) => f.path).map((f) => f.file);
  if (fwFound.length) row("firmware", `${mark.ok} ${fwFound.join(", ")}`);
  for (const f of r.firmware.filter((f) => !f.path))
    row(
      "firmware",
      `${mark.bad} ${f.file} missing, needed for ${f.neededFor} (apt-get install ${f.package})`,
    );
  for (const f of r.features) {
    if (f.ok) row("tools", `${mark.ok} ${f.feature}`);
    else {
      const fixes = [...new Set(Object.values(f.missing).filter((p) => p !== ""))];
      const how = fixes.length
        ? `apt-get install ${fixes.join(" ")}`
        : "install it from its project's releases";
      row("tools", `${mark.off} ${f.feature}: ${Object.keys(f.missing).join(", ")} missing (${how})`);
    }
  }
  const mirrors = r.unikraft.mirrors.length
    ? r.unikraft.mirrors.map((m) => `${m.mirror}${m.exists ? "" : " (missing)"}`).join(", ")
    : "none configured (--with-mirror, KILN_MIRRORS or mirrors: in config.yaml)";
  row(
    "unikraft",
    `sources cache ${r.unikraft.sourcesCache} (${r.unikraft.cachedSources} entries); mirrors: ${mirrors}`,
  );
  lines.push("");
  if (r.ok) lines.push("ok: kiln run can boot guests on this host");
  else for (const p of r.problems) lines.push(`problem: ${p}`);
  return `${lines.join("\n")}\n`;
}
