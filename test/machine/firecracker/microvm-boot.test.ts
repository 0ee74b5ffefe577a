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
 *
 * The other microvm route, `acpi=off` with the devices on the kernel command
 * line, needs a kernel without ACPI and with VIRTIO_MMIO_CMDLINE_DEVICES
 * (`KILN_TEST_FC_KERNEL_NOACPI`); the same tree, reconfigured:
 *   ./scripts/config --disable ACPI --enable VIRTIO_MMIO_CMDLINE_DEVICES
 *   make olddefconfig && make -j2 vmlinux
 * It boots a Kiln ext4 image as its root from a virtio-blk disk that only the
 * command line names.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { planLinuxMachine, readKernelFeatures } from "../../../src/machine/firecracker/translate.js";
import { busyboxTree } from "../../helpers/guests.js";
import { REPO_ROOT, runKiln, scratchDir } from "../../helpers/kiln.js";

const kernel = process.env.KILN_TEST_FC_KERNEL;
const noAcpiKernel = process.env.KILN_TEST_FC_KERNEL_NOACPI;

/** `kiln run KERNEL …` with Firecracker's usual kernel arguments, TCG, no network, until `marker`. */
function firecrackerStyleRun(kernelPath: string, disks: string[], marker: string): string[] {
  return [
    "run",
    kernelPath,
    ...disks,
    "-W",
    "--network",
    "none",
    ...["-a", "reboot=k", "-a", "panic=1", "-a", "pci=off"],
    ...["--wait-for", marker, "--timeout", "120"],
  ];
}

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
  const r = await runKiln(firecrackerStyleRun(kernel!, ["--initrd", rootfs], "hello from Linux"), {
    env: { KILN_HOME: join(dir, "home") },
    timeoutMs: 180_000,
  });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /hello from Linux 6\.1/);
  // The driver chose microvm by itself (no --qemu-machine), translated reboot=k and gave the TSC rate.
  assert.match(r.stdout, /Command line: console=ttyS0 reboot=t panic=1 pci=off tsc_early_khz=\d+/);
  t.diagnostic(
    `booted ${kernel} on microvm to init in ${Date.now() - started} ms (kiln command start to marker)`,
  );
});

test("a kernel without ACPI is planned onto microvm,acpi=off and finds its root disk through the command line", {
  skip: noAcpiKernel
    ? false
    : "KILN_TEST_FC_KERNEL_NOACPI is unset (no Firecracker-config kernel rebuilt without ACPI, with VIRTIO_MMIO_CMDLINE_DEVICES)",
}, async (t) => {
  const dir = scratchDir(t);
  const features = await readKernelFeatures(noAcpiKernel!);
  assert.deepEqual(
    [features?.acpi, features?.virtioMmioCmdline],
    [false, true],
    "the kernel's configuration",
  );
  assert.equal(planLinuxMachine(features).machineOption, "microvm,acpi=off");
  // A busybox root on ext4: its /sbin/init proves it is the root (a file only the image has)
  // and shows the virtio-mmio device argument QEMU wrote for the disk.
  const root = join(dir, "root");
  busyboxTree(
    root,
    "sbin/init",
    [
      "#!/bin/busybox sh",
      "/bin/busybox mount -t proc proc /proc",
      'mmio=$(/bin/busybox grep -o "virtio_mmio.device=[^ ]*" /proc/cmdline | /bin/busybox head -n 1)',
      'echo "KILN-NOACPI-$((6*7)) $(/bin/busybox cat /etc/marker) $mmio"',
      "echo NOACPI-DONE",
      "/bin/busybox poweroff -f",
      "",
    ],
    { dirs: ["etc", "proc"] },
  );
  writeFileSync(join(root, "etc/marker"), "from-the-disk\n");
  const image = join(dir, "root.ext4");
  const built = await runKiln(["rootfs", "build", root, "-o", image]);
  assert.equal(built.code, 0, built.stderr);
  const started = Date.now();
  const r = await runKiln(firecrackerStyleRun(noAcpiKernel!, ["--rootfs", image], "NOACPI-DONE"), {
    env: { KILN_HOME: join(dir, "home") },
    timeoutMs: 180_000,
  });
  assert.equal(r.code, 0, `${r.stdout.slice(-3000)}\n${r.stderr}`);
  // QEMU's microvm (auto-kernel-cmdline) named the disk at its own base address, 0xfeb00000.
  assert.match(r.stdout, /KILN-NOACPI-42 from-the-disk virtio_mmio\.device=512@0xfeb0[0-9a-f]{4}:\d+/);
  t.diagnostic(`booted ${noAcpiKernel} on microvm,acpi=off to its disk's init in ${Date.now() - started} ms`);
});
