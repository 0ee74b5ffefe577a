import assert from "node:assert/strict";
import { test } from "node:test";
import { isKilnError } from "../core/errors.js";
import { formatFromOutput } from "./build.js";
import { checkUuid, estimateExt4Size, ext4InodeCount, planExt4Fixups, uuidFromDigest } from "./ext4.js";
import { normaliseEntryName } from "./layers.js";
import { emptyTree, type WalkedEntry } from "./tree.js";

const entry = (path: string, type: WalkedEntry["type"], uid = 1000): WalkedEntry => ({
  path,
  type,
  mode: 0o644,
  uid,
  gid: uid,
  sizeBytes: 10,
  mtimeSec: 5,
  ino: 1,
  nlink: 1,
});

test("fix-ups: host owners become root, recorded owners and devices are applied", () => {
  const tree = emptyTree("/x");
  tree.owners.set("home/u", { uid: 1000, gid: 100 });
  tree.modes.set("etc/locked", 0o200);
  tree.specials.set("dev/console", {
    path: "dev/console",
    type: "char",
    mode: 0o600,
    uid: 0,
    gid: 0,
    major: 5,
    minor: 1,
    mtimeSec: 7,
  });
  const cmds = planExt4Fixups(
    [entry("etc", "dir"), entry("etc/locked", "file"), entry("home/u", "dir", 1000), entry("ok", "file", 0)],
    tree,
    {},
  );
  assert.deepEqual(cmds, [
    'sif "/etc" uid 0',
    'sif "/etc" gid 0',
    'sif "/etc/locked" uid 0',
    'sif "/etc/locked" gid 0',
    'sif "/etc/locked" mode 0100200',
    'sif "/home/u" gid 100',
    'cd "/dev"',
    'mknod "console" c 5 1',
    'cd "/"',
    'sif "/dev/console" mode 020600',
    'sif "/dev/console" mtime @7',
    'sif "/dev/console" atime @7',
    'sif "/dev/console" ctime @7',
  ]);
  // A plain directory with --keep-owner keeps host owners: no fix-ups.
  assert.deepEqual(planExt4Fixups([entry("a", "file")], emptyTree("/x", false), { keepOwner: true }), []);
  // Reproducible timestamps are no debugfs commands (ext4-times.ts writes them into the inode tables).
  assert.deepEqual(planExt4Fixups([entry("a", "file", 0)], emptyTree("/x"), { epochSec: 9 }), []);
  assert.throws(
    () => planExt4Fixups([entry('a"b', "file")], emptyTree("/x"), {}),
    (e) => isKilnError(e, "ROOTFS_UNSUPPORTED"),
  );
});

test("size estimate grows with content and stays MiB-aligned", () => {
  const small = estimateExt4Size({ entries: 10, dataBlocks: 500 });
  const big = estimateExt4Size({ entries: 20_000, dataBlocks: 150_000 });
  assert.equal(small % (1024 * 1024), 0);
  assert.ok(small >= 500 * 4096 + 16 * 1024 * 1024);
  assert.ok(big > 150_000 * 4096 * 1.1);
});

test("inodes: entries plus spare, and at least mke2fs's one per 16 KiB of image for the guest's own files", () => {
  assert.equal(ext4InodeCount({ entries: 10, dataBlocks: 500 }), 269);
  // A 24 MiB image of a 10-entry tree: 1536 inodes, as mke2fs would give it, not 269.
  assert.equal(ext4InodeCount({ entries: 10, dataBlocks: 500 }, 24 * 1024 * 1024), 1536);
  assert.equal(ext4InodeCount({ entries: 20_000, dataBlocks: 150_000 }, 24 * 1024 * 1024), 26_256);
});

test("UUIDs: derived ones are version 4 layout; given ones are checked", () => {
  assert.match(uuidFromDigest(Buffer.alloc(32, 0xff)), /^ffffffff-ffff-4fff-bfff-ffffffffffff$/);
  assert.equal(checkUuid("0F1E2D3C-4B5A-4697-8877-665544332211"), "0f1e2d3c-4b5a-4697-8877-665544332211");
  assert.throws(
    () => checkUuid("nope"),
    (e) => isKilnError(e, "ROOTFS_BAD_UUID"),
  );
});

test("output names imply formats", () => {
  assert.deepEqual(formatFromOutput("x/initrd.cpio.gz"), { format: "cpio", gzip: true });
  assert.deepEqual(formatFromOutput("a.cpio"), { format: "cpio", gzip: false });
  assert.deepEqual(formatFromOutput("root.img"), { format: "ext4", gzip: false });
  assert.deepEqual(formatFromOutput("root.ext4"), { format: "ext4", gzip: false });
  assert.deepEqual(formatFromOutput("root.erofs"), { format: "erofs", gzip: false });
  assert.equal(formatFromOutput("root.bin"), undefined);
});

test("tar entry names are normalised; escapes are refused naming the entry", () => {
  assert.equal(normaliseEntryName("./etc//x/", "t"), "etc/x");
  assert.equal(normaliseEntryName("./", "t"), "");
  assert.throws(
    () => normaliseEntryName("a/../../x", "layer 1/2"),
    (e) => isKilnError(e, "ROOTFS_PATH_ESCAPE") && e.message.includes('entry "a/../../x" in layer 1/2'),
  );
  assert.throws(
    () => normaliseEntryName("/etc/passwd", "t"),
    (e) => isKilnError(e, "ROOTFS_PATH_ESCAPE"),
  );
});

test("fix-ups: a socket is a FIFO given socket mode bits, re-linked so its directory entry agrees", () => {
  const tree = emptyTree("/x");
  tree.specials.set("run/s", {
    path: "run/s",
    type: "socket",
    mode: 0o755,
    uid: 0,
    gid: 3,
    major: 0,
    minor: 0,
    mtimeSec: 9,
  });
  assert.deepEqual(planExt4Fixups([], tree, {}).slice(0, 8), [
    'cd "/run"',
    "mknod .kiln-socket-tmp p",
    "sif .kiln-socket-tmp mode 0140755",
    'link .kiln-socket-tmp "s"',
    "unlink .kiln-socket-tmp",
    'cd "/"',
    'sif "/run/s" mode 0140755',
    'sif "/run/s" gid 3',
  ]);
});
