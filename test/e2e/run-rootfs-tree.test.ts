/**
 * `kiln run --rootfs` takes what `kraft run --rootfs` takes (issue 16), on
 * real QEMU (TCG): a directory given to a Linux guest becomes an ext4 image
 * built in the machine's directory (Debian's initramfs mounts it from
 * /dev/vda, read-write), and a CPIO archive becomes the initramfs instead of a
 * disk (before, Linux panicked with "VFS: Unable to mount root fs"). A CPIO
 * `--rootfs` beside `--initrd` is refused, naming both.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { which } from "../../src/core/exec.js";
import { busyboxTree, debianInitrd, noBusybox, noQemu } from "../helpers/guests.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";

const { kernel, initrd, skip: noBoot } = debianInitrd();
const skip =
  noBoot ??
  noQemu() ??
  noBusybox() ??
  (!which("mkfs.ext4") ? "mkfs.ext4 missing (apt-get install e2fsprogs)" : false);

test("kiln run --rootfs DIR (Linux): an ext4 image of the tree is built and mounted read-write", {
  skip,
  timeout: 300_000,
}, async (t) => {
  const dir = scratchDir(t, "kiln-rootfs-dir-");
  const root = join(dir, "root");
  busyboxTree(
    root,
    "sbin/init",
    [
      "#!/bin/busybox sh",
      "/bin/busybox mount -t proc proc /proc",
      'fs=$(/bin/busybox awk \'$2 == "/" && $3 != "rootfs" { print $3 "," substr($4, 1, 2) }\' /proc/mounts)',
      'echo "KILN-TREE-$((6*7)) fs=$fs"',
      "/bin/busybox sleep 3",
      "/bin/busybox poweroff -f",
    ],
    { dirs: ["proc", "sys", "dev", "tmp", "etc"] },
  );
  const started = Date.now();
  const r = await runKiln(
    [
      "run",
      "-W",
      kernel!,
      "--initrd",
      initrd!,
      "--rootfs",
      root,
      "--wait-for",
      "KILN-TREE-42 .*",
      "--timeout",
      "150",
    ],
    { env: { KILN_HOME: join(dir, "home") }, timeoutMs: 200_000 },
  );
  t.diagnostic(`build + boot to marker took ${Date.now() - started} ms (TCG)`);
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout.slice(-3000)}`);
  assert.match(r.stdout, /KILN-TREE-42 fs=ext4,rw/, r.stdout.slice(-3000));
});

test("kiln run --rootfs X.cpio (Linux) boots it as the initramfs, not a disk; with --initrd it is refused", {
  skip,
  timeout: 300_000,
}, async (t) => {
  const dir = scratchDir(t, "kiln-rootfs-cpio-");
  const tree = join(dir, "tree");
  busyboxTree(tree, "init", [
    "#!/bin/busybox sh",
    'echo "KILN-CPIO-ROOT-$((6*7))"',
    "/bin/busybox poweroff -f",
  ]);
  const cpio = join(dir, "root.cpio");
  execFileSync("sh", ["-c", `cd '${tree}' && find . | cpio -o -H newc --quiet > '${cpio}'`]);
  const env = { KILN_HOME: join(dir, "home") };
  const r = await runKiln(
    [
      "run",
      "-W",
      "--network",
      "none",
      "-a",
      "quiet",
      kernel!,
      "--rootfs",
      cpio,
      "--wait-for",
      "KILN-CPIO-ROOT-42",
      "--timeout",
      "150",
    ],
    { env, timeoutMs: 200_000 },
  );
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout.slice(-3000)}`);
  assert.doesNotMatch(r.stderr, /does not look like a disk image/);
  assert.doesNotMatch(r.stdout, /Unable to mount root fs/);

  const both = await runKiln(["run", "-W", kernel!, "--rootfs", cpio, "--initrd", initrd!], { env });
  assert.equal(both.code, 2, both.stderr);
  assert.match(
    both.stderr,
    /^error: --rootfs .*root\.cpio is a CPIO archive, which the guest gets as its initrd, and --initrd .* is given too$/m,
  );
});
