/**
 * Boot: Debian's stock kernel and initramfs (which load virtio_blk and ext4)
 * mount a Kiln-built ext4 image as the root filesystem under
 * qemu-system-x86_64 with TCG; the image's /sbin/init prints a marker read
 * from the image, then powers off.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  bootQemuUntil,
  busyboxTree,
  debianInitrd,
  installBusybox,
  noBusybox,
  noQemu,
} from "../helpers/guests.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";

const boot = debianInitrd();
const skip = boot.skip ?? noQemu() ?? noBusybox() ?? false;

/** QEMU booting Debian's kernel and initramfs with `image` as the root on /dev/vda. */
function qemuArgv(image: string): string[] {
  return [
    "qemu-system-x86_64",
    "-M",
    "pc",
    "-accel",
    "tcg",
    "-m",
    "512",
    "-nographic",
    "-no-reboot",
    "-kernel",
    boot.kernel ?? "",
    "-initrd",
    boot.initrd ?? "",
    "-drive",
    `file=${image},format=raw,if=virtio`,
    "-append",
    "root=/dev/vda rw console=ttyS0 panic=-1 quiet",
  ];
}

test("Debian's kernel boots a Kiln ext4 image as its root filesystem", {
  skip,
  timeout: 300_000,
}, async (t) => {
  const dir = scratchDir(t);
  const root = join(dir, "root");
  busyboxTree(
    root,
    "sbin/init",
    [
      "#!/bin/busybox sh",
      "/bin/busybox mount -t proc proc /proc 2>/dev/null",
      'fs=$(/bin/busybox awk \'$2 == "/" && $3 != "rootfs" { print $3 }\' /proc/mounts)',
      "owner=$(/bin/busybox stat -c %u:%g /etc/marker)",
      'echo "KILN-BOOT-MARKER $(/bin/busybox cat /etc/marker) fs=$fs owner=$owner"',
      "/bin/busybox poweroff -f",
      "",
    ],
    { dirs: ["bin", "sbin", "etc", "dev", "proc", "sys", "run", "tmp"] },
  );
  writeFileSync(join(root, "etc/marker"), "from-the-ext4-image\n");
  const image = join(dir, "root.ext4");
  const built = await runKiln(["rootfs", "build", root, "-o", image]);
  assert.equal(built.code, 0, built.stderr);

  const started = Date.now();
  const { out, code } = await bootQemuUntil(qemuArgv(image), undefined, 240_000);
  t.diagnostic(`boot to poweroff took ${Date.now() - started} ms (TCG)`);
  assert.match(out, /KILN-BOOT-MARKER from-the-ext4-image fs=ext4 owner=0:0/, out.slice(-3000));
  assert.equal(code, 0);
});

test("--guest-setup image boots to a getty login on ttyS0 with its hostname", {
  skip,
  timeout: 300_000,
}, async (t) => {
  const dir = scratchDir(t);
  const root = join(dir, "root");
  installBusybox(root);
  const image = join(dir, "guest.ext4");
  const built = await runKiln([
    "rootfs",
    "build",
    root,
    "-o",
    image,
    "--guest-setup",
    "--hostname",
    "kilnvm",
    "--init",
    "/bin/busybox",
  ]);
  assert.equal(built.code, 0, built.stderr);
  const started = Date.now();
  const { out, markerMs } = await bootQemuUntil(qemuArgv(image), /kilnvm login:/, 240_000);
  t.diagnostic(`boot to login prompt took ${Date.now() - started} ms (TCG)`);
  assert.ok(markerMs !== undefined, `no "kilnvm login:" prompt on ttyS0; output tail:\n${out.slice(-3000)}`);
});
