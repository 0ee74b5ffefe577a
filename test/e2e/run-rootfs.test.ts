/**
 * End-to-end, Firecracker-style Linux flow through the CLI only:
 * `kiln rootfs build DIR -o root.ext4`, then `kiln run KERNEL --initrd
 * INITRAMFS --rootfs root.ext4`. Debian's stock kernel has virtio_blk and
 * ext4 as modules, so its own initramfs loads them and mounts `/dev/vda`.
 * The image's /sbin/init prints a marker computed in the guest and a file
 * read from the image; a second boot writes to the root and the host reads
 * the file back with debugfs (the root is mounted read-write). An EROFS root
 * (read-only disk, `ro`) needs erofs.ko, which Debian's initramfs lacks: that
 * case boots a Kiln initrd directory holding the modules and a small /init
 * that mounts `/dev/vda` and switches to it, two machines sharing one image.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { basename, join } from "node:path";
import { test } from "node:test";
import { which } from "../../src/core/exec.js";
import { busyboxTree, installModules } from "../helpers/guests.js";
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

/** `kiln run KERNEL --initrd INITRAMFS --rootfs IMAGE …`, as README's example (KVM is tried, then TCG). */
function runArgs(image: string, ...extra: string[]): string[] {
  return ["run", boot!.kernel, "--initrd", boot!.initrd, "--rootfs", image, ...extra];
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
  t.diagnostic(`boot to marker took ${Date.now() - started} ms`);
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
  t.diagnostic(`boot to poweroff took ${Date.now() - started} ms`);
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout.slice(-3000)}`);
  const written = execFileSync("debugfs", ["-R", "cat /written", image], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  assert.equal(written, "data-written-by-the-guest\n", r.stdout.slice(-3000));
});

/** Modules (in load order) an initrd needs to mount an EROFS root on virtio-blk with Debian's kernel. */
const EROFS_MODULES = [
  "drivers/virtio/virtio_ring",
  "drivers/virtio/virtio",
  "drivers/virtio/virtio_pci_legacy_dev",
  "drivers/virtio/virtio_pci_modern_dev",
  "drivers/virtio/virtio_pci",
  "drivers/block/virtio_blk",
  "crypto/crc32c_generic",
  "lib/libcrc32c",
  "fs/erofs/erofs",
];
const modDir = boot ? `/lib/modules/${basename(boot.kernel).slice("vmlinuz-".length)}/kernel` : "";
const erofsSkip =
  skip ||
  (!which("mkfs.erofs")
    ? "mkfs.erofs missing (apt-get install erofs-utils)"
    : EROFS_MODULES.some((m) => !existsSync(join(modDir, `${m}.ko`)))
      ? `the kernel's virtio/erofs modules are not all in ${modDir} as plain .ko files`
      : false);

test("kiln run --rootfs with an EROFS image (named .img: the content decides): a read-only disk and `ro`; two machines share it", {
  skip: erofsSkip,
  timeout: 300_000,
}, async (t) => {
  const dir = scratchDir(t);
  const b = "/bin/busybox";
  const root = busyboxRoot(dir, []);
  // The image is read-only, so /sbin/init cannot install applet links: call busybox by name.
  writeFileSync(
    join(root, "sbin/init"),
    [
      `#!${b} sh`,
      `${b} mount -t sysfs sysfs /sys`,
      `${b} mount -t proc proc /proc`,
      `fs=$(${b} awk '$2 == "/" { print $3 "," substr($4, 1, 2) }' /proc/mounts)`,
      `${b} touch /new 2>/dev/null && w=writable || w=read-only`,
      `echo "KILN-EROFS-$((6*7)) $(${b} cat /etc/marker) fs=$fs disk-ro=$(${b} cat /sys/block/vda/ro) $w"`,
      `${b} sleep 5`,
      `${b} poweroff -f`,
      "",
    ].join("\n"),
  );
  // Built as EROFS, then given a name that says nothing: Kiln reads the superblock.
  const image = join(dir, "app.img");
  renameSync(await buildImage(dir, root, "app.erofs"), image);
  // Kiln initrd: the modules and an /init that mounts root= with the ro/rw flag of the command line.
  const initrd = join(dir, "initrd");
  busyboxTree(initrd, "init", [
    `#!${b} sh`,
    `${b} mkdir -p /proc /dev /newroot`,
    `${b} mount -t proc proc /proc`,
    `${b} mount -t devtmpfs dev /dev`,
    installModules(initrd, modDir, EROFS_MODULES),
    `i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do ${b} sleep 0.1; i=$((i+1)); done`,
    `flag=rw; ${b} grep -qw ro /proc/cmdline && flag=ro`,
    `${b} mount -t erofs -o $flag /dev/vda /newroot || exec ${b} poweroff -f`,
    `${b} umount /proc`,
    `exec ${b} switch_root /newroot /sbin/init`,
    "",
  ]);
  const home = join(dir, "home");
  const started = Date.now();
  const run = (name: string) =>
    runKiln(
      [
        "run",
        "-W",
        "-n",
        name,
        boot!.kernel,
        "--initrd",
        initrd,
        "--rootfs",
        image,
        "--wait-for",
        "KILN-EROFS-42 .*",
        "--timeout",
        "150",
      ],
      { env: { KILN_HOME: home }, timeoutMs: 200_000 },
    );
  const [one, two] = await Promise.all([run("ro1"), run("ro2")]);
  t.diagnostic(`two machines on one EROFS image: boot to marker took ${Date.now() - started} ms (TCG)`);
  for (const r of [one, two]) {
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout.slice(-3000)}`);
    assert.match(
      r.stdout,
      /KILN-EROFS-42 read-from-the-image fs=erofs,ro disk-ro=1 read-only/,
      r.stdout.slice(-3000),
    );
  }
});
