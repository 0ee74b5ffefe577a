/**
 * Guests for machine tests: the Multiboot stand-in for a Unikraft image
 * (compiled from `fixtures/multiboot/`). Linux guests (Debian's kernel,
 * busybox trees) are in `test/helpers/guests.ts`.
 */
import { execFileSync } from "node:child_process";
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
