/**
 * firectl's `--add-drive PATH[:ro|:rw]` on real QEMU (TCG): Debian's kernel
 * boots a Kiln initrd directory holding the virtio modules and a busybox
 * /init that prints each disk's read-only flag from /sys/block/vd*\/ro,
 * writes a line to the writable extra disk and tries the read-only one. The
 * host then reads the written bytes back and finds the read-only image intact.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { test } from "node:test";
import { which } from "../../src/core/exec.js";
import { busyboxTree, debianKernel, installModules } from "../helpers/guests.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";

/** Modules (in load order) Debian's kernel needs for virtio-blk over PCI. */
const BLK_MODULES = [
  "drivers/virtio/virtio_ring",
  "drivers/virtio/virtio",
  "drivers/virtio/virtio_pci_legacy_dev",
  "drivers/virtio/virtio_pci_modern_dev",
  "drivers/virtio/virtio_pci",
  "drivers/block/virtio_blk",
];
const { kernel, skip: noKernel } = debianKernel();
const modDir = kernel ? `/lib/modules/${basename(kernel).slice("vmlinuz-".length)}/kernel` : "";
const skip =
  noKernel ??
  (!which("qemu-system-x86_64")
    ? "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
    : !existsSync("/bin/busybox")
      ? "/bin/busybox missing (apt-get install busybox-static)"
      : !which("mkfs.ext4")
        ? "mkfs.ext4 missing (apt-get install e2fsprogs)"
        : BLK_MODULES.some((m) => !existsSync(join(modDir, `${m}.ko`)))
          ? `the kernel's virtio modules are not all in ${modDir} as plain .ko files`
          : false);

test("kiln run --add-drive: the Linux guest sees the root and two more disks with their read-only flags", {
  skip,
  timeout: 300_000,
}, async (t) => {
  const dir = scratchDir(t, "kiln-add-drive-");
  const b = "/bin/busybox";
  const initrd = join(dir, "initrd");
  busyboxTree(initrd, "init", [
    `#!${b} sh`,
    `${b} mkdir -p /proc /sys /dev`,
    `${b} mount -t proc proc /proc`,
    `${b} mount -t sysfs sysfs /sys`,
    `${b} mount -t devtmpfs dev /dev`,
    installModules(initrd, modDir, BLK_MODULES),
    `i=0; while [ ! -b /dev/vdc ] && [ $i -lt 100 ]; do ${b} sleep 0.1; i=$((i+1)); done`,
    `flags=; for d in /sys/block/vd*; do flags="$flags $(${b} basename $d)=$(${b} cat $d/ro)"; done`,
    `echo written-by-the-guest | ${b} dd of=/dev/vdc bs=512 conv=sync,fsync 2>/dev/null && w=ok || w=failed`,
    `echo nope | ${b} dd of=/dev/vdb bs=512 conv=sync,fsync 2>/dev/null && r=written || r=refused`,
    `echo "KILN-DRIVES-$((6*7))$flags vdc-write=$w vdb-write=$r"`,
    `${b} sleep 2`,
    `${b} poweroff -f`,
    "",
  ]);
  const root = join(dir, "root.ext4");
  writeFileSync(root, Buffer.alloc(0));
  execFileSync("truncate", ["-s", "8M", root]);
  execFileSync("mkfs.ext4", ["-q", "-F", root]);
  const data = join(dir, "data.img");
  writeFileSync(data, Buffer.alloc(1024 * 1024, 0x61));
  const scratch = join(dir, "scratch.img");
  writeFileSync(scratch, Buffer.alloc(1024 * 1024));
  const started = Date.now();
  const r = await runKiln(
    [
      "run",
      "-W",
      "--network",
      "none",
      kernel!,
      "--initrd",
      initrd,
      "--rootfs",
      root,
      "--add-drive",
      `${data}:ro`,
      "--add-drive",
      `${scratch}:rw`,
      "--wait-for",
      "KILN-DRIVES-42 .*",
      "--timeout",
      "150",
    ],
    { env: { KILN_HOME: join(dir, "home") }, timeoutMs: 200_000 },
  );
  t.diagnostic(`boot to marker took ${Date.now() - started} ms (TCG)`);
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout.slice(-3000)}`);
  assert.match(
    r.stdout,
    /KILN-DRIVES-42 vda=0 vdb=1 vdc=0 vdc-write=ok vdb-write=refused/,
    r.stdout.slice(-3000),
  );
  assert.equal(readFileSync(scratch).subarray(0, 21).toString(), "written-by-the-guest\n");
  assert.ok(
    readFileSync(data).every((byte) => byte === 0x61),
    "the read-only image is unchanged",
  );
});
