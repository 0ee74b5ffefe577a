/**
 * Helpers for tests and benchmarks against a real Unikraft tree
 * (KILN_TEST_UNIKRAFT): the hello-world application they build, and booting
 * a built image under QEMU/TCG to read its console.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exec } from "../../src/core/exec.js";

/** A Unikraft checkout (e.g. RELEASE-0.17.0), or undefined: tests that need one skip. */
export const UNIKRAFT_TREE = process.env.KILN_TEST_UNIKRAFT;

/**
 * Write our own hello world, in the shape of unikraft/app-helloworld, into
 * `dir` (created if needed): a project `helloworld` on the Unikraft core
 * `core`, with `targets` (e.g. `qemu/x86_64`).
 */
export function writeHelloworldApp(dir: string, core: string, targets: readonly string[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "main.c"),
    '#include <stdio.h>\n\nint main(void)\n{\n\tprintf("Hello world!\\n");\n\treturn 0;\n}\n',
  );
  writeFileSync(
    join(dir, "Makefile.uk"),
    "$(eval $(call addlib,apphello))\nAPPHELLO_SRCS-y += $(APPHELLO_BASE)/main.c\n",
  );
  // Without a libc the app needs nolibc for printf.
  writeFileSync(
    join(dir, "Config.uk"),
    "config APPHELLO_DEPS\n\tbool\n\tdefault y\n\tselect LIBNOLIBC if !HAVE_LIBC\n",
  );
  writeFileSync(
    join(dir, "Kraftfile"),
    `specification: '0.6'\nname: helloworld\nunikraft:\n  source: ${core}\ntargets:\n${targets.map((t) => `  - ${t}\n`).join("")}`,
  );
}

/**
 * Boot a Unikraft image under TCG (64 MiB, serial on stdio) until it exits
 * or 60 s pass; returns what it printed on the console.
 */
export async function bootUnikraft(
  kernel: string,
  qemu = "qemu-system-x86_64",
  machine = "pc",
): Promise<string> {
  const r = await exec(
    [
      qemu,
      "-M",
      machine,
      "-accel",
      "tcg",
      "-cpu",
      "max",
      "-m",
      "64",
      "-nographic",
      "-nodefaults",
      "-serial",
      "stdio",
      "-kernel",
      kernel,
    ],
    { timeoutMs: 60_000, allowFailure: true },
  );
  return r.stdout;
}
