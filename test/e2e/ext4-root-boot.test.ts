/**
 * Boot: Debian's stock kernel and initramfs (which load virtio_blk and ext4)
 * mount a Kiln-built ext4 image as the root filesystem under
 * qemu-system-x86_64 with TCG; the image's /sbin/init prints a marker read
 * from the image, then powers off.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { which } from "../../src/core/exec.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";

function findKernel(): { kernel: string; initrd: string } | undefined {
  const names = existsSync("/boot") ? readdirSync("/boot") : [];
  for (const k of names
    .filter((n) => n.startsWith("vmlinuz-"))
    .sort()
    .reverse()) {
    const initrd = `initrd.img-${k.slice("vmlinuz-".length)}`;
    if (names.includes(initrd)) return { kernel: join("/boot", k), initrd: join("/boot", initrd) };
  }
  return undefined;
}

const boot = findKernel();
const skip = !boot
  ? "no /boot/vmlinuz-* with a matching initrd.img (apt-get install linux-image-amd64)"
  : !which("qemu-system-x86_64")
    ? "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
    : !existsSync("/bin/busybox")
      ? "/bin/busybox missing (apt-get install busybox-static)"
      : false;

test("Debian's kernel boots a Kiln ext4 image as its root filesystem", {
  skip,
  timeout: 300_000,
}, async (t) => {
  const dir = scratchDir(t);
  const root = join(dir, "root");
  for (const d of ["bin", "sbin", "etc", "dev", "proc", "sys", "run", "tmp"])
    mkdirSync(join(root, d), { recursive: true });
  copyFileSync("/bin/busybox", join(root, "bin/busybox"));
  chmodSync(join(root, "bin/busybox"), 0o755);
  writeFileSync(join(root, "etc/marker"), "from-the-ext4-image\n");
  writeFileSync(
    join(root, "sbin/init"),
    [
      "#!/bin/busybox sh",
      "/bin/busybox mount -t proc proc /proc 2>/dev/null",
      'fs=$(/bin/busybox awk \'$2 == "/" && $3 != "rootfs" { print $3 }\' /proc/mounts)',
      "owner=$(/bin/busybox stat -c %u:%g /etc/marker)",
      'echo "KILN-BOOT-MARKER $(/bin/busybox cat /etc/marker) fs=$fs owner=$owner"',
      "/bin/busybox poweroff -f",
      "",
    ].join("\n"),
  );
  chmodSync(join(root, "sbin/init"), 0o755);
  const image = join(dir, "root.ext4");
  const built = await runKiln(["rootfs", "build", root, "-o", image]);
  assert.equal(built.code, 0, built.stderr);

  const started = Date.now();
  const argv = [
    "-M",
    "pc",
    "-accel",
    "tcg",
    "-m",
    "512",
    "-nographic",
    "-no-reboot",
    "-kernel",
    boot ? boot.kernel : "",
    "-initrd",
    boot ? boot.initrd : "",
    "-drive",
    `file=${image},format=raw,if=virtio`,
    "-append",
    "root=/dev/vda rw console=ttyS0 panic=-1 quiet",
  ];
  const qemu = spawn("qemu-system-x86_64", argv, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  qemu.stdout.on("data", (c: Buffer) => {
    out += c.toString();
  });
  qemu.stderr.on("data", (c: Buffer) => {
    out += c.toString();
  });
  const timer = setTimeout(() => qemu.kill("SIGKILL"), 240_000);
  const code = await new Promise<number | null>((r) => qemu.on("close", r));
  clearTimeout(timer);
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
  mkdirSync(join(root, "bin"), { recursive: true });
  copyFileSync("/bin/busybox", join(root, "bin/busybox"));
  chmodSync(join(root, "bin/busybox"), 0o755);
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
  const qemu = spawn(
    "qemu-system-x86_64",
    [
      "-M",
      "pc",
      "-accel",
      "tcg",
      "-m",
      "512",
      "-nographic",
      "-no-reboot",
      "-kernel",
      boot ? boot.kernel : "",
      "-initrd",
      boot ? boot.initrd : "",
      "-drive",
      `file=${image},format=raw,if=virtio`,
      "-append",
      "root=/dev/vda rw console=ttyS0 panic=-1 quiet",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  const seen = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 240_000);
    const onData = (c: Buffer) => {
      out += c.toString();
      if (/kilnvm login:/.test(out)) {
        clearTimeout(timer);
        resolve(true);
      }
    };
    qemu.stdout.on("data", onData);
    qemu.stderr.on("data", onData);
    qemu.on("close", () => {
      clearTimeout(timer);
      resolve(/kilnvm login:/.test(out));
    });
  });
  const ok = await seen;
  qemu.kill("SIGKILL");
  t.diagnostic(`boot to login prompt took ${Date.now() - started} ms (TCG)`);
  assert.ok(ok, `no "kilnvm login:" prompt on ttyS0; output tail:\n${out.slice(-3000)}`);
});
