/**
 * Guests for machine tests: the Multiboot stand-in for a Unikraft image
 * (compiled from `fixtures/multiboot/`) and a busybox initrd directory for
 * Debian's stock kernel (`examples/hello-linux/prepare.sh`).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../helpers/kiln.js";

const FIXTURE = join(REPO_ROOT, "test/machine/fixtures/multiboot");

/** Compile the Multiboot stand-in into `dir`; returns its path. */
export function buildMultibootStandin(dir: string): string {
  const out = join(dir, "standin_qemu-x86_64");
  execFileSync("gcc", [
    "-m32",
    "-ffreestanding",
    "-fno-pic",
    "-fno-stack-protector",
    "-fno-asynchronous-unwind-tables",
    "-nostdlib",
    "-static",
    "-no-pie",
    "-O1",
    "-Wl,--build-id=none",
    "-T",
    join(FIXTURE, "standin.ld"),
    "-o",
    out,
    join(FIXTURE, "standin.c"),
  ]);
  return out;
}

/** The host's Debian kernel, if installed (skip reason otherwise). */
export function debianKernel(): { kernel?: string; skip?: string } {
  const k = existsSync("/boot")
    ? readdirSync("/boot")
        .filter((f) => /^vmlinuz-.*-amd64$/.test(f))
        .sort()
        .pop()
    : undefined;
  if (!k) return { skip: "no /boot/vmlinuz-*-amd64 (apt-get install linux-image-amd64)" };
  if (!existsSync("/bin/busybox")) return { skip: "no /bin/busybox (apt-get install busybox-static)" };
  return { kernel: join("/boot", k) };
}

/** Fill `dir` with busybox, /init and the virtio modules of `kernel` (a /boot/vmlinuz-RELEASE). */
export function prepareLinuxRootfs(dir: string, kernel: string): string {
  execFileSync("sh", [join(REPO_ROOT, "examples/hello-linux/prepare.sh"), dir, kernel]);
  return dir;
}
