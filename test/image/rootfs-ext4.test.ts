/**
 * `kiln rootfs build` from a directory and a tarball to ext4 and EROFS,
 * checked with the real e2fsprogs (e2fsck, debugfs) and erofs-utils
 * (fsck.erofs --extract).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { installBusybox } from "../helpers/guests.js";
import { KILN_FROM_SOURCE, REPO_ROOT, runKiln, scratchDir } from "../helpers/kiln.js";
import { debugfs, e2fsckClean, ext4Ls, makeTar } from "./rootfs-helpers.js";

function sha(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** A small tree: a file, a mode-0600 file, a directory, a symlink, owned by a non-root host user. */
function makeTree(dir: string): void {
  mkdirSync(join(dir, "etc"), { recursive: true });
  mkdirSync(join(dir, "bin"));
  writeFileSync(join(dir, "etc/x"), "hello ext4\n");
  writeFileSync(join(dir, "etc/secret"), "s3cret\n");
  chmodSync(join(dir, "etc/secret"), 0o600);
  writeFileSync(join(dir, "bin/tool"), "#!/bin/sh\necho tool\n");
  chmodSync(join(dir, "bin/tool"), 0o755);
  symlinkSync("/etc/x", join(dir, "etc/link"));
}

test("directory → ext4: contents, modes, symlinks, root owner, e2fsck clean", async (t) => {
  const dir = scratchDir(t);
  const root = join(dir, "root");
  makeTree(root);
  // Host files owned by someone else must still be root's in the image.
  if (process.getuid?.() === 0) execFileSync("chown", ["-R", "1234:1234", root]);
  const out = join(dir, "out", "root.ext4");
  const r = await runKiln(["rootfs", "build", root, "-o", out, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { format: string; sourceKind: string; sizeBytes: number };
  assert.equal(result.format, "ext4");
  assert.equal(result.sourceKind, "directory");
  assert.equal(e2fsckClean(out).code, 0, e2fsckClean(out).output);
  assert.equal(debugfs(out, "cat /etc/x"), "hello ext4\n");
  const etc = ext4Ls(out, "/etc");
  assert.deepEqual(etc.get("x"), { mode: "100644", uid: 0, gid: 0 });
  assert.deepEqual(etc.get("secret"), { mode: "100600", uid: 0, gid: 0 });
  assert.equal(etc.get("link")?.mode, "120777");
  assert.match(debugfs(out, "stat /etc/link"), /Fast link dest: "\/etc\/x"/);
  assert.deepEqual(ext4Ls(out, "/bin").get("tool"), { mode: "100755", uid: 0, gid: 0 });
  // The guest can create files in the free space: inodes as mke2fs would give the size (one per 16 KiB).
  const freeInodes = Number(/Free inodes:\s+(\d+)/.exec(debugfs(out, "stats"))?.[1]);
  assert.ok(freeInodes >= result.sizeBytes / 16384 - 64, `only ${freeInodes} free inodes`);
  // Only the image is left in the output directory (no staging or temp files).
  assert.deepEqual(readdirSync(join(dir, "out")), ["root.ext4"]);
});

test("tarball → ext4 keeps archive owners, device nodes and FIFOs (via debugfs)", async (t) => {
  const dir = scratchDir(t);
  const tar = join(dir, "root.tar.gz");
  const { gzipSync } = await import("node:zlib");
  writeFileSync(
    tar,
    gzipSync(
      await makeTar([
        { name: "./", type: "directory" },
        { name: "./etc/", type: "directory" },
        { name: "./etc/shadow", content: "root:*:1::::::\n", mode: 0o640, gid: 42 },
        { name: "./dev/", type: "directory" },
        { name: "./dev/console", type: "character-device", mode: 0o600, devmajor: 5, devminor: 1 },
        { name: "./dev/null", type: "character-device", mode: 0o666, devmajor: 1, devminor: 3 },
        { name: "./run/initctl", type: "fifo", mode: 0o600 },
        { name: "./home/u/", type: "directory", mode: 0o750, uid: 1000, gid: 1000 },
        { name: "./home/u/notes", content: "mine\n", uid: 1000, gid: 1000 },
        { name: "./etc/hardlink", type: "link", linkname: "./etc/shadow" },
      ]),
    ),
  );
  const out = join(dir, "root.img");
  const r = await runKiln(["rootfs", "build", tar, "-o", out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(e2fsckClean(out).code, 0, e2fsckClean(out).output);
  assert.deepEqual(ext4Ls(out, "/etc").get("shadow"), { mode: "100640", uid: 0, gid: 42 });
  assert.equal(debugfs(out, "cat /etc/hardlink"), "root:*:1::::::\n");
  assert.match(debugfs(out, "stat /etc/shadow"), /Links: 2/);
  const dev = debugfs(out, "stat /dev/console");
  assert.match(dev, /Type: character special\s+Mode:\s+0600/);
  assert.match(dev, /Device major\/minor number: 05:01/);
  assert.match(debugfs(out, "stat /dev/null"), /Device major\/minor number: 01:03/);
  assert.match(debugfs(out, "stat /run/initctl"), /Type: FIFO/);
  assert.deepEqual(ext4Ls(out, "/home").get("u"), { mode: "40750", uid: 1000, gid: 1000 });
  assert.deepEqual(ext4Ls(out, "/home/u").get("notes"), { mode: "100644", uid: 1000, gid: 1000 });
});

test("tarball → cpio.gz keeps archive owners, device nodes and FIFOs (read back with GNU cpio)", async (t) => {
  const dir = scratchDir(t);
  const tar = join(dir, "root.tar");
  writeFileSync(
    tar,
    await makeTar([
      { name: "etc/", type: "directory" },
      { name: "etc/shadow", content: "root:*:1::::::\n", mode: 0o640, gid: 42 },
      { name: "dev/", type: "directory" },
      { name: "dev/console", type: "character-device", mode: 0o600, devmajor: 5, devminor: 1 },
      { name: "run/initctl", type: "fifo", mode: 0o600 },
      { name: "home/u/", type: "directory", mode: 0o750, uid: 1000, gid: 1000 },
      { name: "home/u/notes", content: "mine\n", uid: 1000, gid: 1000 },
    ]),
  );
  const out = join(dir, "initrd.cpio.gz");
  const r = await runKiln(["rootfs", "build", tar, "-o", out]);
  assert.equal(r.code, 0, r.stderr);
  const { gunzipSync } = await import("node:zlib");
  const listing = execFileSync("cpio", ["-itv", "--numeric-uid-gid", "--quiet"], {
    input: gunzipSync(readFileSync(out)),
    encoding: "utf8",
  });
  const line = (p: string) => listing.split("\n").find((l) => l.endsWith(` ${p}`)) ?? `(no ${p})`;
  assert.match(line("etc/shadow"), /^-rw-r-----\s+1\s+0\s+42\s/);
  assert.match(line("dev/console"), /^crw-------\s+1\s+0\s+0\s+5,\s+1\s/);
  assert.match(line("run/initctl"), /^prw-------\s/);
  assert.match(line("home/u"), /^drwxr-x---\s+\d+\s+1000\s+1000\s/);
  assert.match(line("home/u/notes"), /^-rw-r--r--\s+1\s+1000\s+1000\s/);
});

test("reproducible ext4 and EROFS: two builds are byte-identical; --uuid is used", async (t) => {
  const dir = scratchDir(t);
  const root = join(dir, "root");
  makeTree(root);
  const env = { SOURCE_DATE_EPOCH: "1700000000" };
  for (const ext of ["ext4", "erofs"]) {
    const a = join(dir, `a.${ext}`);
    const b = join(dir, `b.${ext}`);
    const ra = await runKiln(["rootfs", "build", root, "-o", a, "--reproducible"], { env });
    assert.equal(ra.code, 0, ra.stderr);
    // The source itself is never changed (ext4 clamps times in the image, not in the tree).
    assert.ok(lstatSync(join(root, "etc/x")).mtimeMs > 1700000000_000, `${ext}: source mtime was changed`);
    // Touch the source between builds: clamped times make it irrelevant.
    writeFileSync(join(root, "etc/x"), "hello ext4\n");
    const rb = await runKiln(["rootfs", "build", root, "-o", b, "--reproducible"], { env });
    assert.equal(rb.code, 0, rb.stderr);
    assert.equal(sha(a), sha(b), `${ext} images differ`);
    if (ext === "ext4") {
      // The timestamps are written into the inode tables by Kiln itself: their checksums must hold.
      const fsck = e2fsckClean(a);
      assert.equal(fsck.code, 0, fsck.output);
      for (const p of ["/", "/etc", "/etc/x"]) {
        const st = debugfs(a, `stat ${p}`);
        for (const field of ["ctime", "atime", "mtime"])
          assert.match(st, new RegExp(`${field}: 0x6553f100:`), `${p} ${field} is not the epoch:\n${st}`);
      }
    }
  }
  const uuid = "0f1e2d3c-4b5a-4697-8877-665544332211";
  const u = join(dir, "u.ext4");
  assert.equal((await runKiln(["rootfs", "build", root, "-o", u, "--uuid", uuid])).code, 0);
  assert.match(
    execFileSync("dumpe2fs", ["-h", u], { encoding: "utf8", stdio: "pipe" }),
    new RegExp(`UUID:\\s+${uuid}`),
  );
});

test("directory → EROFS: fsck.erofs clean, extracted tree matches, root-owned", async (t) => {
  const dir = scratchDir(t);
  const root = join(dir, "root");
  makeTree(root);
  const out = join(dir, "root.erofs");
  const r = await runKiln(["rootfs", "build", root, "-o", out]);
  assert.equal(r.code, 0, r.stderr);
  const x = join(dir, "x");
  execFileSync("fsck.erofs", [`--extract=${x}`, "--preserve", out], { stdio: "pipe" });
  assert.equal(readFileSync(join(x, "etc/x"), "utf8"), "hello ext4\n");
  assert.equal(lstatSync(join(x, "etc/secret")).mode & 0o7777, 0o600);
  assert.equal(lstatSync(join(x, "bin/tool")).mode & 0o7777, 0o755);
  assert.equal(readlinkSync(join(x, "etc/link")), "/etc/x");
  if (process.getuid?.() === 0) assert.equal(lstatSync(join(x, "etc/x")).uid, 0);
});

test("unprivileged user (nobody): ext4 files owned by root, owners from the archive kept", async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip("needs root to switch to the unprivileged user nobody");
    return;
  }
  const dir = scratchDir(t);
  chmodSync(dir, 0o777);
  const tar = join(dir, "root.tar");
  writeFileSync(
    tar,
    await makeTar([
      { name: "etc/", type: "directory" },
      { name: "etc/passwd", content: "root:x:0:0::/root:/bin/sh\n" },
      { name: "etc/locked", content: "the owner cannot read me\n", mode: 0o200 },
      { name: "var/mail/", type: "directory", mode: 0o2775, gid: 8 },
      { name: "dev/console", type: "character-device", mode: 0o600, devmajor: 5, devminor: 1 },
    ]),
  );
  const out = join(dir, "out.ext4");
  const started = Date.now();
  const r = execFileSync(
    "runuser",
    ["-u", "nobody", "--", ...KILN_FROM_SOURCE, "rootfs", "build", tar, "-o", out, "--json"],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: "1", KILN_HOME: join(dir, "home") },
      encoding: "utf8",
    },
  );
  t.diagnostic(`unprivileged build took ${Date.now() - started} ms`);
  assert.equal(JSON.parse(r).format, "ext4");
  assert.notEqual(lstatSync(out).uid, 0, "the image should have been written by nobody");
  assert.equal(e2fsckClean(out).code, 0, e2fsckClean(out).output);
  assert.deepEqual(ext4Ls(out, "/etc").get("passwd"), { mode: "100644", uid: 0, gid: 0 });
  assert.deepEqual(ext4Ls(out, "/etc").get("locked"), { mode: "100200", uid: 0, gid: 0 });
  assert.deepEqual(ext4Ls(out, "/var").get("mail"), { mode: "42775", uid: 0, gid: 8 });
  assert.deepEqual(ext4Ls(out, "/").get("etc"), { mode: "40755", uid: 0, gid: 0 });
  assert.match(debugfs(out, "stat /dev/console"), /Device major\/minor number: 05:01/);
});

test("--guest-setup on a busybox directory writes inittab, fstab, hostname, init and SSH key", async (t) => {
  const dir = scratchDir(t);
  const root = join(dir, "root");
  installBusybox(root);
  const key = join(dir, "id.pub");
  writeFileSync(key, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKilnTestKeyOnly test@kiln\n");
  const out = join(dir, "guest.ext4");
  const r = await runKiln([
    "rootfs",
    "build",
    root,
    "-o",
    out,
    "--guest-setup",
    "--hostname",
    "vm1",
    "--init",
    "/bin/busybox",
    "--ssh-key",
    key,
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).initSystem, "busybox");
  const inittab = debugfs(out, "cat /etc/inittab");
  assert.match(inittab, /^ttyS0::respawn:\/bin\/busybox getty -L 115200 ttyS0 vt100$/m);
  assert.match(inittab, /^::sysinit:\/bin\/busybox mount -a$/m);
  const fstab = debugfs(out, "cat /etc/fstab");
  for (const fs of ["proc\t/proc\tproc", "sysfs\t/sys\tsysfs", "devtmpfs\t/dev\tdevtmpfs"])
    assert.ok(fstab.includes(fs), fstab);
  assert.equal(debugfs(out, "cat /etc/hostname"), "vm1\n");
  assert.match(debugfs(out, "stat /sbin/init"), /Fast link dest: "\/bin\/busybox"/);
  assert.equal(
    debugfs(out, "cat /root/.ssh/authorized_keys"),
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKilnTestKeyOnly test@kiln\n",
  );
  assert.deepEqual(ext4Ls(out, "/root/.ssh").get("authorized_keys"), { mode: "100600", uid: 0, gid: 0 });
  assert.deepEqual(ext4Ls(out, "/root").get(".ssh"), { mode: "40700", uid: 0, gid: 0 });
  // The source directory itself is untouched.
  assert.deepEqual(readdirSync(root), ["bin"]);
  // A missing init is refused with the path named.
  const bad = await runKiln(["rootfs", "build", root, "-o", join(dir, "bad.ext4"), "--init", "/sbin/nope"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /init "\/sbin\/nope" does not exist in the root filesystem/);
  assert.ok(!readdirSync(dir).includes("bad.ext4"));
});

test("guest set-up follows symlinks in the guest's scope, never out to the host", async (t) => {
  const dir = scratchDir(t);
  const outside = join(dir, "outside");
  mkdirSync(outside);
  const root = join(dir, "root");
  mkdirSync(join(root, "usr/bin"), { recursive: true });
  mkdirSync(join(root, "usr/sbin"), { recursive: true });
  installBusybox(root, "usr/bin/busybox");
  symlinkSync("usr/bin", join(root, "bin")); // merged /usr, as Debian
  symlinkSync("usr/sbin", join(root, "sbin"));
  symlinkSync(outside, join(root, "etc")); // absolute: means <root>/<outside> inside the guest
  const out = join(dir, "scoped.ext4");
  const r = await runKiln([
    "rootfs",
    "build",
    root,
    "-o",
    out,
    "--hostname",
    "scoped",
    "--init",
    "/bin/busybox",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(outside), [], "nothing written on the host through /etc");
  assert.equal(debugfs(out, `cat ${outside}/hostname`), "scoped\n");
  assert.match(debugfs(out, "stat /usr/sbin/init"), /Fast link dest: "\/bin\/busybox"/);
});
