/**
 * `kiln build` against a real Unikraft tree (KILN_TEST_UNIKRAFT, a checkout
 * of RELEASE-0.17.0 or similar; see DEVELOPERS.md): a hello-world
 * application written here builds for qemu/x86_64 and boots under TCG, its
 * qemu/arm64 target cross-builds (Kiln picks aarch64-linux-gnu- itself) and
 * boots on `-M virt`, and its fc/x86_64 image is produced. Skipped, with the
 * reason, when KILN_TEST_UNIKRAFT is unset.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { exec } from "../../src/core/exec.js";
import { runKiln } from "../helpers/kiln.js";

const TREE = process.env.KILN_TEST_UNIKRAFT;
const skip = TREE
  ? false
  : "KILN_TEST_UNIKRAFT is unset (point it at a Unikraft checkout, e.g. RELEASE-0.17.0)";

/** Our own hello world, in the shape of unikraft/app-helloworld. */
function writeApp(dir: string, core: string): void {
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
    `specification: '0.6'\nname: helloworld\nunikraft:\n  source: ${core}\ntargets:\n  - qemu/x86_64\n  - qemu/arm64\n  - fc/x86_64\n`,
  );
}

async function boot(qemu: string, machine: string, kernel: string): Promise<string> {
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

describe("real Unikraft: helloworld", { skip }, () => {
  let dir = "";
  const env = () => ({ KILN_HOME: join(dir, "home") });
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "kiln-uk-hello-"));
    writeApp(dir, TREE!);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("qemu/x86_64 builds, boots under TCG printing Hello world!, and rebuilds as a no-op", async (t) => {
    const started = Date.now();
    const r = await runKiln(["build", dir, "-p", "qemu", "-m", "x86_64", "--json"], {
      env: env(),
      timeoutMs: 600_000,
    });
    assert.equal(r.code, 0, r.stderr);
    t.diagnostic(`cold build: ${Date.now() - started} ms`);
    const [built] = (JSON.parse(r.stdout) as { targets: { kernel: string; steps: number }[] }).targets;
    assert.equal(built?.kernel, join(dir, ".unikraft/build/helloworld_qemu-x86_64"));
    assert.match(
      readFileSync(join(dir, ".config.helloworld_qemu-x86_64"), "utf8"),
      /^# CONFIG_LIBUKRANDOM is not set$/m,
    );
    const bootStarted = Date.now();
    assert.match(await boot("qemu-system-x86_64", "pc", built.kernel), /Hello world!/);
    t.diagnostic(`boot: ${Date.now() - bootStarted} ms`);
    const again = await runKiln(["build", dir, "-t", "helloworld_qemu-x86_64", "--json"], { env: env() });
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { targets: { steps: number }[] }).targets[0]?.steps, 0);
  });

  test("qemu/arm64 cross-builds with the toolchain Kiln picks and boots on -M virt", async (t) => {
    const started = Date.now();
    const r = await runKiln(["build", dir, "-p", "qemu", "-m", "arm64"], { env: env(), timeoutMs: 600_000 });
    assert.equal(r.code, 0, r.stderr);
    t.diagnostic(`cross build: ${Date.now() - started} ms`);
    assert.match(
      readFileSync(join(dir, ".unikraft/build/helloworld_qemu-arm64.log"), "utf8"),
      /CROSS_COMPILE=aarch64-linux-gnu-/,
    );
    assert.match(
      await boot("qemu-system-aarch64", "virt", join(dir, ".unikraft/build/helloworld_qemu-arm64")),
      /Hello world!/,
    );
  });

  test("fc/x86_64 builds its image, and Kiln says QEMU cannot boot it", async (t) => {
    const started = Date.now();
    const r = await runKiln(["build", dir, "-p", "fc"], { env: env(), timeoutMs: 600_000 });
    assert.equal(r.code, 0, r.stderr);
    t.diagnostic(`fc build: ${Date.now() - started} ms`);
    const kernel = join(dir, ".unikraft/build/helloworld_fc-x86_64");
    assert.ok(existsSync(kernel));
    assert.equal(readFileSync(kernel).subarray(0, 4).toString("latin1"), "\x7fELF");
    assert.match(r.stdout, /QEMU cannot boot it; run it with Firecracker/);
  });
});
