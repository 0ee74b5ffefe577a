/**
 * Unikraft images are recognised by structure, not by the word "Unikraft" in
 * their first 64 KiB: fixture arm64 images (built with Debian's aarch64 cross
 * compiler from `fixtures/uk-arm64/image.c`, laid out as Unikraft lays them
 * out, the banner past byte 128 Ki) as a stripped ELF with `.uk_*` sections
 * and as a raw Image with Linux's arm64 header (Unikraft's mklinux.py), with
 * and without the `.uk_bootinfo` block, with and without a `.config` beside.
 * A Unikraft guest gets no Linux `console=… panic=-1` and 64 MiB.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { which } from "../../src/core/exec.js";
import { detectKernel } from "../../src/machine/kernel-detect.js";
import { kernelCommandLine } from "../../src/machine/qemu/argv.js";
import { planRun } from "../../src/orchestration/run-plan.js";
import { REPO_ROOT, scratchDir } from "../helpers/kiln.js";
import { machineSpec } from "../helpers/specs.js";

const CROSS = "aarch64-linux-gnu-";
const skip = which(`${CROSS}gcc`) ? undefined : `${CROSS}gcc missing (apt-get install gcc-aarch64-linux-gnu)`;
const SOURCE = join(REPO_ROOT, "test/machine/fixtures/uk-arm64/image.c");

/** Build the fixture as a stripped ELF and as a raw arm64 Image in `dir`; returns their paths. */
function buildFixture(dir: string, defines: string[]): { elf: string; image: string } {
  mkdirSync(dir, { recursive: true });
  const dbg = join(dir, "app_qemu-arm64.dbg");
  const elf = join(dir, "app_qemu-arm64.elf");
  const bin = join(dir, "app.bin");
  const image = join(dir, "app_qemu-arm64");
  execFileSync(`${CROSS}gcc`, [
    ...defines.map((d) => `-D${d}`),
    "-O1",
    "-ffreestanding",
    "-nostdlib",
    "-static",
    "-Wl,-e,_libkvmplat_entry",
    "-o",
    dbg,
    SOURCE,
  ]);
  execFileSync(`${CROSS}strip`, ["-s", dbg, "-o", elf]);
  execFileSync(`${CROSS}objcopy`, ["-O", "binary", elf, bin]);
  // Linux's arm64 Image header as support/scripts/mklinux.py writes it: code0 `MZ…`, the
  // magic "ARM\x64" at 56 and 0x40 at 60.
  const header = Buffer.alloc(64);
  header.writeUInt32LE(0x91005a4d, 0);
  header.writeBigUInt64LE(0xan, 24);
  header.write("ARM\x64", 56, "latin1");
  header.writeUInt32LE(0x40, 60);
  writeFileSync(image, Buffer.concat([header, readFileSync(bin)]));
  return { elf, image };
}

test("arm64 Unikraft images with their name past 64 KiB: found by .uk_* sections, the boot info block, the .config beside", {
  skip,
}, async (t) => {
  const dir = scratchDir(t);
  const current = buildFixture(join(dir, "current"), ["BOOTINFO"]);
  const banner = readFileSync(current.image).indexOf("Unikraft");
  assert.ok(banner > 64 * 1024, `the fixture's banner is at byte ${banner}, not past 64 KiB`);
  assert.deepEqual(await detectKernel(current.elf), {
    kind: "elf",
    architecture: "arm64",
    guest: "unikraft",
  });
  assert.deepEqual(await detectKernel(current.image), {
    kind: "arm64-image",
    architecture: "arm64",
    guest: "unikraft",
  });

  // Before Unikraft 0.14 there is no boot info block: a raw Image is only known by its .config.
  const old = buildFixture(join(dir, "old"), []);
  assert.equal((await detectKernel(old.image)).guest, "linux");
  writeFileSync(join(dir, "old/.config"), "CONFIG_ARM64=y\nCONFIG_SERIAL_AMBA_PL011=y\n");
  assert.equal((await detectKernel(old.image)).guest, "linux", "a Linux .config is no evidence");
  writeFileSync(join(dir, "old/.config"), 'CONFIG_UK_ARCH="arm64"\nCONFIG_ARCH_ARM_64=y\n');
  assert.equal((await detectKernel(old.image)).guest, "unikraft");

  // An ELF without Unikraft's linker tables stays a Linux guest.
  const plain = buildFixture(join(dir, "plain"), ["NO_UK_SECTIONS"]);
  assert.equal((await detectKernel(plain.elf)).guest, "linux");
});

test("kiln run's plan for an arm64 Unikraft Image: a Unikraft command line (no console=, no panic=) and 64 MiB", {
  skip,
}, async (t) => {
  const dir = scratchDir(t);
  const { image } = buildFixture(join(dir, "b"), ["BOOTINFO"]);
  const plan = await planRun({
    target: image,
    filter: {},
    cwd: dir,
    env: { ...process.env, KILN_HOME: dir },
    envVars: [],
    volumes: [],
    detach: false,
    kernelArgs: [],
    appArgs: ["/music.db"],
    publish: [],
    noAccel: true,
  });
  assert.equal(plan.base.guest, "unikraft");
  assert.equal(plan.base.memMiB, 64);
  const line = kernelCommandLine(machineSpec({ ...plan.base, name: "m1" }), "virt");
  assert.doesNotMatch(line, /console=|panic=/);
  assert.equal(line, "/music.db");
});
