/**
 * Linux guests for boot tests and benchmarks: Debian's stock kernel (and its
 * initramfs) from /boot, busybox root trees, and QEMU runs watched for a
 * console marker.
 */
import { execFileSync, spawn } from "node:child_process";
import {
  accessSync,
  chmodSync,
  constants,
  copyFileSync,
  mkdirSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { which } from "../../src/core/exec.js";
import { REPO_ROOT } from "./kiln.js";

/** `/boot/vmlinuz-*` names, newest first, and every name in /boot (none when it is missing). */
function bootFiles(): { kernels: string[]; names: string[] } {
  let names: string[] = [];
  try {
    names = readdirSync("/boot");
  } catch {
    // no /boot
  }
  return {
    kernels: names
      .filter((n) => n.startsWith("vmlinuz-"))
      .sort()
      .reverse(),
    names,
  };
}

function accessible(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

/** The newest readable /boot/vmlinuz-*, or why there is none (Ubuntu's are readable by root only). */
export function debianKernel(): { kernel?: string; skip?: string } {
  const k = bootFiles().kernels[0];
  if (!k) return { skip: "no /boot/vmlinuz-* (apt-get install linux-image-amd64)" };
  const path = join("/boot", k);
  if (!accessible(path, constants.R_OK)) return { skip: `${path} is not readable by this user` };
  return { kernel: path };
}

/**
 * The newest /boot/vmlinuz-RELEASE that has its initramfs
 * (/boot/initrd.img-RELEASE: Debian's loads virtio_blk and ext4 for a root
 * on /dev/vda), or why there is none.
 */
export function debianInitrd(): { kernel?: string; initrd?: string; skip?: string } {
  const { kernels, names } = bootFiles();
  for (const k of kernels) {
    const initrd = `initrd.img-${k.slice("vmlinuz-".length)}`;
    if (names.includes(initrd)) return { kernel: join("/boot", k), initrd: join("/boot", initrd) };
  }
  return { skip: "no /boot/vmlinuz-* with a matching initrd.img (apt-get install linux-image-amd64)" };
}

/** Why qemu-system-x86_64 cannot run here, if it cannot. */
export function noQemu(): string | undefined {
  return which("qemu-system-x86_64")
    ? undefined
    : "qemu-system-x86_64 missing (apt-get install qemu-system-x86)";
}

/** Why the host's static busybox cannot be copied into a guest, if it cannot. */
export function noBusybox(): string | undefined {
  return accessible("/bin/busybox", constants.X_OK)
    ? undefined
    : "/bin/busybox missing (apt-get install busybox-static)";
}

/** Copy the host's static busybox to `root/rel` (mode 0755), creating its directory; returns the path. */
export function installBusybox(root: string, rel = "bin/busybox"): string {
  const path = join(root, rel);
  mkdirSync(dirname(path), { recursive: true });
  copyFileSync("/bin/busybox", path);
  chmodSync(path, 0o755);
  return path;
}

/**
 * A busybox root in `root`: the directories `dirs`, /bin/busybox with
 * `applets` linked to it in /bin, and the script `init` (lines) as the
 * executable `initPath` (e.g. `init`, `sbin/init`).
 */
export function busyboxTree(
  root: string,
  initPath: string,
  init: readonly string[],
  opts: { dirs?: readonly string[]; applets?: readonly string[] } = {},
): void {
  for (const d of opts.dirs ?? []) mkdirSync(join(root, d), { recursive: true });
  installBusybox(root);
  for (const applet of opts.applets ?? []) symlinkSync("busybox", join(root, "bin", applet));
  const script = join(root, initPath);
  mkdirSync(dirname(script), { recursive: true });
  writeFileSync(script, init.join("\n"));
  chmodSync(script, 0o755);
}

/**
 * Copy kernel modules (`modules`: paths under `modDir` without `.ko`, in
 * load order) into `root/lib/modules`; returns the init-script line that
 * loads them with busybox's insmod.
 */
export function installModules(root: string, modDir: string, modules: readonly string[]): string {
  mkdirSync(join(root, "lib/modules"), { recursive: true });
  for (const m of modules)
    copyFileSync(join(modDir, `${m}.ko`), join(root, "lib/modules", `${basename(m)}.ko`));
  const names = modules.map((m) => basename(m)).join(" ");
  return `for m in ${names}; do /bin/busybox insmod /lib/modules/$m.ko; done`;
}

/** Fill `dir` with busybox, /init and the virtio modules of `kernel` (a /boot/vmlinuz-RELEASE). */
export function prepareLinuxRootfs(dir: string, kernel: string): string {
  execFileSync("sh", [join(REPO_ROOT, "examples/hello-linux/prepare.sh"), dir, kernel]);
  return dir;
}

export interface BootRun {
  /** stdout and stderr, as they came. */
  out: string;
  /** Exit code (null when killed). */
  code: number | null;
  /** Milliseconds from spawn to the marker on the console; undefined when it never appeared. */
  markerMs?: number;
}

/**
 * Run `argv` (QEMU, or Kiln running QEMU) until it exits, killing it after
 * `timeoutMs`. With a `marker`, the process is killed as soon as its output
 * matches (unless `killOnMarker` is false: Kiln's `--wait-for` stops its VM
 * itself) and the time to the marker is reported.
 */
export function bootQemuUntil(
  argv: readonly string[],
  marker: RegExp | undefined,
  timeoutMs: number,
  opts: { env?: NodeJS.ProcessEnv; killOnMarker?: boolean } = {},
): Promise<BootRun> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ["ignore", "pipe", "pipe"],
      ...(opts.env ? { env: opts.env } : {}),
    });
    let out = "";
    let markerMs: number | undefined;
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const onData = (c: Buffer) => {
      const text = c.toString();
      out += text;
      // The new text and some before it: a marker split across chunks is still seen.
      if (marker && markerMs === undefined && marker.test(out.slice(-(text.length + 4096)))) {
        markerMs = Number(process.hrtime.bigint() - started) / 1e6;
        if (opts.killOnMarker !== false) child.kill("SIGKILL");
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ out, code, ...(markerMs !== undefined ? { markerMs } : {}) });
    });
  });
}
