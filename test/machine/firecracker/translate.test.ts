/**
 * Firecracker-style guests on QEMU: machine choice from a kernel's config
 * (Firecracker's 6.1 guest config, Debian's stock kernel), kernel-argument
 * translation, IKCONFIG extraction, and the PVH-note check proven with real
 * ELF files (built with gcc) booted by real QEMU.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { isKilnError } from "../../../src/core/errors.js";
import { assertQemuCanLoadElf, elfHasPvhNote } from "../../../src/machine/firecracker/elf-notes.js";
import {
  extractIkconfig,
  firecrackerMmioDeviceArgs,
  kernelConfigCandidates,
  kernelFeaturesFromConfig,
  planLinuxMachine,
  readKernelFeatures,
  translateFirecrackerArgs,
  tscEarlyKhzArg,
} from "../../../src/machine/firecracker/translate.js";
import { SHARED_DATA, scratchDir, sharedSkip } from "../../helpers/kiln.js";
import { buildTestElf } from "./elf-fixture.js";

const FC_CONFIG = join(SHARED_DATA, "firecracker/guest_configs/microvm-kernel-ci-x86_64-6.1.config");

const noFcConfig = sharedSkip("data/firecracker/guest_configs/microvm-kernel-ci-x86_64-6.1.config");

test("Firecracker's 6.1 guest config: microvm with ACPI, virtio-mmio", { skip: noFcConfig }, () => {
  const f = kernelFeaturesFromConfig(readFileSync(FC_CONFIG, "utf8"));
  assert.deepEqual(f, { virtioMmio: "y", virtioMmioCmdline: false, virtioPci: "y", acpi: true, pvh: true });
  const plan = planLinuxMachine(f);
  assert.equal(plan.machine, "microvm");
  assert.equal(plan.machineOption, "microvm,acpi=on");
  assert.equal(plan.transport, "virtio-mmio");
});

test("a kernel with VIRTIO_MMIO_CMDLINE_DEVICES and no ACPI: microvm,acpi=off", () => {
  const config = "CONFIG_VIRTIO_MMIO=y\nCONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y\n# CONFIG_ACPI is not set\n";
  const plan = planLinuxMachine(kernelFeaturesFromConfig(config));
  assert.equal(plan.machineOption, "microvm,acpi=off");
  assert.match(plan.reason, /virtio_mmio\.device=/);
});

test("Debian's stock kernel (virtio-mmio a module) and unknown kernels get -M pc with virtio-pci", (t) => {
  const debian =
    "CONFIG_VIRTIO_MMIO=m\nCONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y\nCONFIG_ACPI=y\nCONFIG_VIRTIO_PCI=m\n";
  const plan = planLinuxMachine(kernelFeaturesFromConfig(debian));
  assert.equal(plan.machine, "pc");
  assert.equal(plan.transport, "virtio-pci");
  assert.match(plan.reason, /virtio-mmio is a module/);
  assert.equal(planLinuxMachine(undefined).machine, "pc");
  // On this machine's own kernel, when installed, through /boot/config-<version>.
  const stock = "/boot/vmlinuz-6.1.0-56-amd64";
  if (!existsSync(stock)) {
    t.diagnostic(`${stock} absent; skipped the installed-kernel check`);
    return;
  }
  assert.equal(kernelConfigCandidates(stock)[0], "/boot/config-6.1.0-56-amd64");
  return readKernelFeatures(stock).then((f) => assert.equal(planLinuxMachine(f).machine, "pc"));
});

test("reboot=k becomes reboot=t; pci=off is dropped on pc; Firecracker's mmio addresses are dropped", () => {
  const fcArgs = [
    "console=ttyS0",
    "reboot=k",
    "panic=1",
    "pci=off",
    ...firecrackerMmioDeviceArgs(2),
    "init=/init",
  ];
  assert.deepEqual(firecrackerMmioDeviceArgs(2), [
    "virtio_mmio.device=4K@0xd0000000:5",
    "virtio_mmio.device=4K@0xd0001000:6",
  ]);
  const micro = translateFirecrackerArgs(fcArgs, "microvm");
  assert.deepEqual(micro.args, ["console=ttyS0", "reboot=t", "panic=1", "pci=off", "init=/init"]);
  assert.equal(micro.notes.length, 3);
  assert.match(micro.notes[0]!, /reboot=k .* became reboot=t/);
  const pc = translateFirecrackerArgs(fcArgs, "pc");
  assert.deepEqual(pc.args, ["console=ttyS0", "reboot=t", "panic=1", "init=/init"]);
  assert.ok(pc.notes.some((n) => /dropped pci=off: -M pc/.test(n)));
});

test("tsc_early_khz from /proc/cpuinfo, only for a constant-rate TSC", () => {
  const cpuinfo = "processor\t: 0\ncpu MHz\t\t: 2596.134\nflags\t\t: fpu tsc constant_tsc nonstop_tsc\n";
  assert.equal(tscEarlyKhzArg(cpuinfo), "tsc_early_khz=2596134");
  assert.equal(tscEarlyKhzArg(cpuinfo.replace(" constant_tsc", "")), undefined);
  assert.equal(tscEarlyKhzArg("flags\t: constant_tsc\n"), undefined);
});

test("IKCONFIG: the configuration embedded in a vmlinux is found and read", (t) => {
  const config = "CONFIG_VIRTIO_MMIO=y\nCONFIG_ACPI=y\nCONFIG_PVH=y\n";
  const image = Buffer.concat([
    Buffer.alloc(4096, 0x90),
    Buffer.from("IKCFG_ST"),
    gzipSync(config),
    Buffer.from("IKCFG_ED"),
    Buffer.alloc(128),
  ]);
  assert.equal(extractIkconfig(image), config);
  assert.equal(extractIkconfig(Buffer.alloc(1024)), undefined);
  const dir = scratchDir(t);
  const file = join(dir, "kernel.elf");
  writeFileSync(file, image);
  return readKernelFeatures(file).then((f) => assert.equal(planLinuxMachine(f).machine, "microvm"));
});

function qemuBoot(kernel: string) {
  return spawnSync(
    "qemu-system-x86_64",
    [
      "-M",
      "pc",
      "-accel",
      "tcg",
      "-nodefaults",
      "-nographic",
      "-no-reboot",
      "-kernel",
      kernel,
      "-device",
      "isa-debug-exit,iobase=0xf4,iosize=0x04",
    ],
    { encoding: "utf8", timeout: 30_000 },
  );
}

test("an ELF without the PVH note (like Unikraft's fc images) is refused clearly; with it, QEMU boots it", {
  skip: noFcConfig,
}, async (t) => {
  const started = Date.now();
  const dir = scratchDir(t);
  const bare = buildTestElf(dir, "fc-like.elf", false);
  const pvh = buildTestElf(dir, "pvh.elf", true);
  assert.equal(await elfHasPvhNote(bare), false);
  assert.equal(await elfHasPvhNote(pvh), true);
  assert.equal(await elfHasPvhNote(FC_CONFIG), undefined, "a text file is not an ELF");

  await assert.rejects(assertQemuCanLoadElf(bare), (e: unknown) => {
    assert.ok(isKilnError(e, "KERNEL_NOT_QEMU_BOOTABLE"));
    assert.match(e.message, /neither a Multiboot header nor the PVH entry note \(XEN_ELFNOTE_PHYS32_ENTRY\)/);
    assert.match(e.hint ?? "", /--vmm firecracker/);
    return true;
  });
  await assertQemuCanLoadElf(pvh);

  // Why the check exists: QEMU's own answer is obscure, and the noted ELF really boots.
  const refused = qemuBoot(bare);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /without PVH ELF Note/);
  const booted = qemuBoot(pvh);
  assert.equal(booted.status, 3, booted.stderr);
  t.diagnostic(`built and booted two ELFs in ${Date.now() - started} ms`);
});
