/**
 * `kiln run` on real Unikraft images: a built helloworld project given by
 * KILN_TEST_UNIKRAFT_PROJECT (a directory whose Kraftfile has qemu/x86_64 and
 * qemu/arm64 targets, built with `kiln build`, e.g. the project that
 * test/e2e/unikraft-helloworld.test.ts builds). Skipped, with the reason, when
 * unset: CI without a Unikraft tree uses the Multiboot stand-in instead
 * (test/machine/multiboot.test.ts).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runKiln, scratchDir } from "../helpers/kiln.js";

const PROJECT = process.env.KILN_TEST_UNIKRAFT_PROJECT;
const skip = PROJECT ? false : "KILN_TEST_UNIKRAFT_PROJECT is unset (a built Unikraft helloworld project)";

for (const arch of ["x86_64", "arm64"]) {
  test(`Unikraft helloworld (qemu/${arch}) prints Hello world! and exits 0`, { skip }, async (t) => {
    const home = scratchDir(t);
    const started = Date.now();
    const r = await runKiln(["run", PROJECT!, "--plat", "qemu", "-m", arch, "--timeout", "60"], {
      env: { KILN_HOME: home },
    });
    t.diagnostic(`run took ${Date.now() - started} ms`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Hello world!/);
    const [m] = JSON.parse((await runKiln(["ps", "-a", "--json"], { env: { KILN_HOME: home } })).stdout) as {
      state: string;
      exitCode: number;
      architecture: string;
    }[];
    assert.deepEqual([m?.state, m?.exitCode, m?.architecture], ["exited", 0, arch]);
  });
}
