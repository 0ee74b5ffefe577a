/**
 * Proves the microvm choice with a real boot: a kernel built from
 * Firecracker's 6.1 guest config (`KILN_TEST_FC_KERNEL`, an uncompressed
 * vmlinux with its `.config` beside it or embedded through IKCONFIG) is
 * planned onto `-M microvm` and boots there under TCG to a busybox init,
 * with Firecracker's kernel arguments (`reboot=k` translated).
 *
 * No such kernel exists in CI yet (a later issue builds one), so the test is
 * skipped with the reason when the variable is unset. To run it locally:
 *   tar xf /usr/src/linux-source-6.1.tar.xz && cd linux-source-6.1
 *   cp ../shared/data/firecracker/guest_configs/microvm-kernel-ci-x86_64-6.1.config .config
 *   make olddefconfig && make -j2 vmlinux
 *   KILN_TEST_FC_KERNEL=$PWD/vmlinux npm run test:only -- test/machine/firecracker/microvm-boot.test.ts
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { planLinuxMachine, readKernelFeatures } from "../../../src/machine/firecracker/translate.js";
import { REPO_ROOT, runKiln, scratchDir } from "../../helpers/kiln.js";

const kernel = process.env.KILN_TEST_FC_KERNEL;

test("a Firecracker-config kernel is planned onto -M microvm and boots there to init", {
  skip: kernel ? false : "KILN_TEST_FC_KERNEL is unset (no kernel built from Firecracker's guest config)",
}, async (t) => {
  const dir = scratchDir(t);
  const plan = planLinuxMachine(await readKernelFeatures(kernel!));
  assert.equal(plan.machine, "microvm", plan.reason);
  const rootfs = join(dir, "rootfs");
  const prep = spawnSync("sh", [join(REPO_ROOT, "examples/hello-linux/prepare.sh"), rootfs], {
    encoding: "utf8",
  });
  assert.equal(prep.status, 0, prep.stderr);
  const started = Date.now();
  const r = await runKiln(
    [
      "run",
      kernel!,
      "--initrd",
      rootfs,
      "-W",
      "--network",
      "none",
      "-a",
      "reboot=k",
      "-a",
      "panic=1",
      "-a",
      "pci=off",
      "--wait-for",
      "hello from Linux",
      "--timeout",
      "120",
    ],
    { env: { KILN_HOME: join(dir, "home") }, timeoutMs: 180_000 },
  );
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /hello from Linux 6\.1/);
  // The driver chose microvm by itself (no --qemu-machine), translated reboot=k and gave the TSC rate.
  assert.match(r.stdout, /Command line: console=ttyS0 reboot=t panic=1 pci=off tsc_early_khz=\d+/);
  t.diagnostic(
    `booted ${kernel} on microvm to init in ${Date.now() - started} ms (kiln command start to marker)`,
  );
});
