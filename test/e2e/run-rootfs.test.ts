/**
 * End-to-end, Firecracker-style Linux flow through the CLI only:
 * `kiln rootfs build DIR -o root.ext4`, then `kiln run KERNEL --initrd
 * INITRAMFS --rootfs root.ext4`. Debian's stock kernel has virtio_blk and
 * ext4 as modules, so its own initramfs loads them and mounts `/dev/vda`.
 * The image's /sbin/init prints a marker computed in the guest and a file
 * read from the image; a second boot writes to the root and the host reads
 * the file back with debugfs (the root is mounted read-write).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { which } from "../../src/core/exec.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";

function findBoot(): { kernel: string; initrd: string } | undefined {
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

const boot = findBoot();
const skip = !boot
  ? "no /boot/vmlinuz-* with a matching /boot/initrd.img-* (apt-get install linux-image-amd64)"
  : !which("qemu-system-x86_64")
    ? "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
    : !existsSync("/bin/busybox")
      ? "/bin/busybox missing (apt-get install busybox-static)"
      : !which("debugfs")
        ? "debugfs missing (apt-get install e2fsprogs)"
        : false;

/** A busybox root whose /sbin/init runs `script` (busybox sh), then powers off. */
function busyboxRoot(dir: string, script: string[]): string {
  const root = join(dir, "root");
  for (const d of ["bin", "sbin", "etc", "dev", "proc", "sys", "tmp"])
    mkdirSync(join(root, d), { recursive: true });
  copyFileSync("/bin/busybox", join(root, "bin/busybox"));
  chmodSync(join(root, "bin/busybox"), 0o755);
  writeFileSync(join(root, "etc/marker"), "read-from-the-image\n");
  writeFileSync(
    join(root, "sbin/init"),
    [
      "#!/bin/busybox sh",
      "export PATH=/bin",
      "/bin/busybox --install -s /bin",
      ...script,
      "poweroff -f",
      "",
    ].join("\n"),
  );
  chmodSync(join(root, "sbin/init"), 0o755);
  return root;
}

async function buildImage(dir: string, root: string, name: string): Promise<string> {
  const image = join(dir, name);
  const r = await runKiln(["rootfs", "build", root, "-o", image]);
  assert.equal(r.code, 0, r.stderr);
  return image;
}

function runArgs(image: string, ...extra: string[]): string[] {
  return ["run", "-W", boot!.kernel, "--initrd", boot!.initrd, "--rootfs", image, ...extra];
}

test("kiln run --rootfs: Debian's kernel and initramfs boot a Kiln ext4 root", {
  skip,
  timeout: 300_000,
}, async (t) => {
  const dir = scratchDir(t);
  const root = busyboxRoot(dir, [
    "mount -t proc proc /proc",
    'fs=$(awk \'$2 == "/" && $3 != "rootfs" { print $3 "," substr($4, 1, 2) }\' /proc/mounts)',
    'echo "KILN-ROOTFS-$((6*7)) $(cat /etc/marker) fs=$fs"',
    "sleep 5",
  ]);
  const image = await buildImage(dir, root, "root.ext4");
  const started = Date.now();
  const r = await runKiln(runArgs(image, "--wait-for", "KILN-ROOTFS-42", "--timeout", "120"), {
    env: { KILN_HOME: join(dir, "home") },
    timeoutMs: 180_000,
  });
  t.diagnostic(`boot to marker took ${Date.now() - started} ms (TCG)`);
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout.slice(-3000)}`);
  assert.match(r.stdout, /KILN-ROOTFS-42 read-from-the-image fs=ext4,rw/, r.stdout.slice(-3000));
});

test("kiln run --rootfs: the guest writes to its ext4 root; the host reads it back", {
  skip,
  timeout: 300_000,
}, async (t) => {
  const dir = scratchDir(t);
  const root = busyboxRoot(dir, ["echo data-written-by-the-guest > /written", "sync"]);
  const image = await buildImage(dir, root, "root.ext4");
  const started = Date.now();
  const r = await runKiln(runArgs(image, "--timeout", "120"), {
    env: { KILN_HOME: join(dir, "home") },
    timeoutMs: 180_000,
  });
  t.diagnostic(`boot to poweroff took ${Date.now() - started} ms (TCG)`);
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout.slice(-3000)}`);
  const written = execFileSync("debugfs", ["-R", "cat /written", image], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  assert.equal(written, "data-written-by-the-guest\n", r.stdout.slice(-3000));
});
