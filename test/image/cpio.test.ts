/**
 * Kiln's CPIO writer checked against real tools: every archive is listed and
 * extracted with GNU cpio and bsdtar (libarchive) and compared with its
 * source tree; hard links, device specs, SOURCE_DATE_EPOCH, ownership, the
 * 4 GiB limit and atomic output are checked on the archive bytes.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import {
  chownSync,
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { isKilnError } from "../../src/core/errors.js";
import { packCpio } from "../../src/image/cpio/index.js";
import { scratchDir } from "../helpers/kiln.js";
import { describeTree, makeSourceTree, withoutInodes } from "./cpio-helpers.js";

const isRoot = process.getuid?.() === 0;

function sh(cmd: string, cwd: string): string {
  return execFileSync("sh", ["-c", cmd], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

test("GNU cpio and bsdtar extract a Kiln archive into the source tree (plain and gzip)", async (t) => {
  const dir = scratchDir(t);
  const src = join(dir, "src");
  makeSourceTree(src);
  const expected = withoutInodes(describeTree(src));
  for (const gzip of [false, true]) {
    const out = join(dir, gzip ? "a.cpio.gz" : "a.cpio");
    const r = await packCpio({ sourceDir: src, output: out, gzip });
    assert.equal(r.entries, Object.keys(expected).length);
    const cat = gzip ? `gzip -dc '${out}'` : `cat '${out}'`;

    const viaCpio = join(dir, `cpio-${gzip}`);
    mkdirSync(viaCpio);
    sh(`${cat} | cpio -idm --quiet`, viaCpio);
    assert.deepEqual(withoutInodes(describeTree(viaCpio)), expected, `cpio -id (gzip=${gzip})`);

    const viaBsdtar = join(dir, `bsdtar-${gzip}`);
    mkdirSync(viaBsdtar);
    sh(`bsdtar -xpf '${out}'`, viaBsdtar);
    assert.deepEqual(withoutInodes(describeTree(viaBsdtar)), expected, `bsdtar -x (gzip=${gzip})`);

    // Hard links come back as one inode with three names.
    for (const root of [viaCpio, viaBsdtar]) {
      const d = describeTree(root);
      const inos = ["bin/multi", "etc/multi-2", "usr/multi-3"].map((p) => d.get(p)!.ino);
      assert.equal(new Set(inos).size, 1, `hard links share an inode in ${root}`);
    }
  }
});

test("cpio -itv lists owners root:root, link targets, and hard-link data stored once", async (t) => {
  const dir = scratchDir(t);
  const src = join(dir, "src");
  makeSourceTree(src);
  if (isRoot) chownSync(join(src, "etc/odd"), 1234, 5678);
  const out = join(dir, "a.cpio");
  await packCpio({ sourceDir: src, output: out });
  const listing = sh(`cpio -itv --quiet -n < '${out}'`, dir);
  const lines = listing.trim().split("\n");
  for (const l of lines) assert.match(l, /^\S+\s+\d+\s+0\s+0\s/, `owned by 0:0: ${l}`);
  assert.match(listing, /^lrwxrwxrwx .* bin\/sh -> tool$/m);
  assert.match(listing, /^lrwxrwxrwx .* etc\/dangling -> does\/not\/exist$/m);
  assert.match(listing, /^-rwsr-xr-x .* bin\/tool$/m);
  assert.match(listing, /^drwxrwxrwt .* tmp$/m);
  assert.match(listing, /^prw-r--r-- .* etc\/fifo$/m);
  // A hard-linked file's data is stored once, with the first link (what Unikraft's ukcpio needs);
  // the others have size 0.
  const sizes = lines
    .filter((l) => /(bin\/multi|etc\/multi-2|usr\/multi-3)$/.test(l))
    .map((l) => Number(l.trim().split(/\s+/)[4]));
  assert.deepEqual(sizes, ["three names, one inode\n".length, 0, 0]);
  // Parents precede children, as the kernel's and ukcpio's extraction need.
  const names = sh(`cpio -it --quiet < '${out}'`, dir).trim().split("\n");
  names.forEach((n, i) => {
    const parent = n.includes("/") ? n.slice(0, n.lastIndexOf("/")) : undefined;
    if (parent) assert.ok(names.indexOf(parent) < i && names.indexOf(parent) !== -1, `${parent} before ${n}`);
  });

  if (isRoot) {
    const kept = join(dir, "kept.cpio");
    await packCpio({ sourceDir: src, output: kept, keepOwner: true });
    assert.match(
      sh(`cpio -itv --quiet -n < '${kept}'`, dir),
      /^-rw-r--r--\s+1\s+1234\s+5678\s+3\s.*etc\/odd$/m,
    );
  }
});

test("a device spec adds device nodes, directories and ownership; cpio -itv shows major, minor", async (t) => {
  const dir = scratchDir(t);
  const src = join(dir, "src");
  makeSourceTree(src);
  const spec = join(dir, "devices.txt");
  writeFileSync(
    spec,
    [
      "# PATH TYPE MAJOR MINOR MODE UID GID",
      "/dev/console c 5 1 0600 0 0",
      "/dev/sda     b 8 0 0660 0 6",
      "/dev/null    c 1 3 0666 0 0",
      "/run/initctl p - - 0600 0 0",
      "/home/user   d - - 0700 1000 1000",
      "/etc/ssh/key f - - 0400 0 0",
      "",
    ].join("\n"),
  );
  const out = join(dir, "dev.cpio");
  await packCpio({ sourceDir: src, output: out, deviceSpec: spec });
  const listing = sh(`cpio -itv --quiet -n < '${out}'`, dir);
  assert.match(listing, /^crw-------\s+1\s+0\s+0\s+5,\s+1\s.*dev\/console$/m);
  assert.match(listing, /^brw-rw----\s+1\s+0\s+6\s+8,\s+0\s.*dev\/sda$/m);
  assert.match(listing, /^crw-rw-rw-\s+1\s+0\s+0\s+1,\s+3\s.*dev\/null$/m);
  assert.match(listing, /^drwxr-xr-x\s+2\s+0\s+0\s.*\sdev$/m, "implied parent directory");
  assert.match(listing, /^prw-------\s.*run\/initctl$/m);
  assert.match(listing, /^drwx------\s+2\s+1000\s+1000\s.*home\/user$/m);
  assert.match(listing, /^-r--------\s.*etc\/ssh\/key$/m);
  const names = sh(`cpio -it --quiet < '${out}'`, dir).trim().split("\n");
  assert.ok(names.indexOf("dev") < names.indexOf("dev/console"));
  assert.ok(names.indexOf("home") < names.indexOf("home/user"));
  // bsdtar agrees on the device numbers.
  assert.match(sh(`bsdtar -tvf '${out}'`, dir), /^crw-------\s+1\s+0\s+0\s+5,\s*1\s.*dev\/console$/m);

  writeFileSync(spec, "/dev/console c 5 x 0600 0 0\n");
  await assert.rejects(packCpio({ sourceDir: src, output: join(dir, "bad.cpio"), deviceSpec: spec }), (e) => {
    assert.ok(isKilnError(e, "CPIO_SPEC_INVALID"));
    assert.deepEqual(e.location, { file: spec, line: 1, col: 18 });
    return true;
  });
  writeFileSync(spec, "/etc/nope f - - 0644 0 0\n");
  await assert.rejects(
    packCpio({ sourceDir: src, output: join(dir, "bad.cpio"), deviceSpec: spec }),
    (e) => isKilnError(e, "CPIO_SPEC_INVALID") && /etc\/nope/.test(e.message) && e.location?.line === 1,
  );
  assert.equal(existsSync(join(dir, "bad.cpio")), false);
});

test("SOURCE_DATE_EPOCH clamps mtimes and two runs are byte-identical", async (t) => {
  const dir = scratchDir(t);
  const src = join(dir, "src");
  makeSourceTree(src);
  const old = 1_000_000_000; // 2001: older than the epoch, kept
  utimesSync(join(src, "etc/odd"), old, old);
  const epoch = 1_600_000_000;
  const a = join(dir, "a.cpio");
  const b = join(dir, "b.cpio");
  await packCpio({ sourceDir: src, output: a, sourceDateEpoch: epoch, deviceSpec: undefined });
  // Touch everything between the runs: newer mtimes must not change the bytes.
  utimesSync(join(src, "bin/tool"), new Date(), new Date());
  const saved = process.env.SOURCE_DATE_EPOCH;
  process.env.SOURCE_DATE_EPOCH = String(epoch);
  try {
    await packCpio({ sourceDir: src, output: b, gzip: false });
  } finally {
    if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH;
    else process.env.SOURCE_DATE_EPOCH = saved;
  }
  assert.ok(readFileSync(a).equals(readFileSync(b)), "byte-identical archives");
  const x = join(dir, "x");
  mkdirSync(x);
  sh(`cpio -idm --quiet < '${a}'`, x);
  const st = (p: string) =>
    Math.floor(Number(execFileSync("stat", ["-c", "%Y", join(x, p)], { encoding: "utf8" })));
  assert.equal(st("bin/tool"), epoch);
  assert.equal(st("usr/share/big.bin"), epoch);
  assert.equal(st("etc/odd"), old);
});

test("a file over 4 GiB - 1 is a clear error and leaves no output", async (t) => {
  const dir = scratchDir(t);
  const src = join(dir, "src");
  mkdirSync(src);
  writeFileSync(join(src, "small"), "x");
  // A sparse file: 4 GiB of size, no blocks.
  const fd = openSync(join(src, "huge.img"), "w");
  ftruncateSync(fd, 4 * 1024 ** 3);
  closeSync(fd);
  const out = join(dir, "out.cpio");
  await assert.rejects(packCpio({ sourceDir: src, output: out }), (e) => {
    assert.ok(isKilnError(e, "CPIO_ENTRY_TOO_LARGE"));
    assert.match(e.message, /huge\.img: size 4294967296 exceeds the newc limit of 4294967295/);
    assert.ok(e.hint?.includes("ext4"));
    return true;
  });
  assert.deepEqual(readdirSync(dir).sort(), ["src"], "no output and no temporary file");
});

test("an archive written inside its source directory does not contain itself", async (t) => {
  const src = scratchDir(t);
  writeFileSync(join(src, "hello"), "hi\n");
  const out = join(src, "rootfs.cpio");
  await packCpio({ sourceDir: src, output: out });
  // Again, with the first archive and a temporary file from an interrupted run present.
  writeFileSync(join(src, ".rootfs.cpio.kiln-tmp-1-deadbeef"), "partial");
  await packCpio({ sourceDir: src, output: out });
  const names = sh(`cpio -it --quiet < '${out}'`, src).trim().split("\n");
  assert.deepEqual(names, ["hello"]);
  assert.equal(existsSync(join(src, ".rootfs.cpio.kiln-tmp-1-deadbeef")), true, "not Kiln's to remove");
});

test("a missing source directory or a file name that is not UTF-8 is a clear error", async (t) => {
  const dir = scratchDir(t);
  const src = join(dir, "src");
  mkdirSync(src);
  // Node decodes names as UTF-8; a raw 0xff byte cannot round-trip.
  execFileSync("sh", ["-c", "touch \"$(printf 'bad\\377name')\""], { cwd: src });
  await assert.rejects(
    packCpio({ sourceDir: src, output: join(dir, "o.cpio") }),
    (e) =>
      isKilnError(e, "CPIO_BAD_NAME") && e.message.includes("not valid UTF-8") && e.message.includes(src),
  );
  await assert.rejects(
    packCpio({ sourceDir: join(dir, "nope"), output: join(dir, "o.cpio") }),
    (e) => isKilnError(e, "CPIO_SOURCE_MISSING") && e.message.includes("nope"),
  );
  assert.equal(spawnSync("ls", [dir]).stdout.toString(), "src\n");
});

test("extra entries are added with their parents; an interrupted pack leaves nothing behind", async (t) => {
  const dir = scratchDir(t);
  const src = join(dir, "src");
  makeSourceTree(src);
  const out = join(dir, "x.cpio");
  const init = "#!/bin/sh\necho generated\n";
  await packCpio({
    sourceDir: src,
    output: out,
    extraEntries: [
      {
        path: "/init",
        type: "file",
        mode: 0o755,
        uid: 0,
        gid: 0,
        mtimeSec: 0,
        sizeBytes: init.length,
        open: async function* () {
          yield Buffer.from(init);
        },
      },
      {
        path: "/opt/app/config",
        type: "symlink",
        mode: 0o777,
        uid: 0,
        gid: 0,
        mtimeSec: 0,
        linkTarget: "/etc/odd",
      },
    ],
  });
  const x = join(dir, "x");
  mkdirSync(x);
  sh(`cpio -idm --quiet < '${out}'`, x);
  assert.equal(readFileSync(join(x, "init"), "utf8"), init);
  assert.match(
    sh(`cpio -itv --quiet < '${out}'`, dir),
    /^drwxr-xr-x .* opt\/app\n.*opt\/app\/config -> \/etc\/odd$/m,
  );

  const ac = new AbortController();
  const reporter = { info() {}, warn() {}, progress: () => ({ update: () => ac.abort(), done() {} }) };
  const partial = join(dir, "partial.cpio");
  await assert.rejects(packCpio({ sourceDir: src, output: partial, reporter, signal: ac.signal }), (e) =>
    isKilnError(e, "CPIO_ABORTED"),
  );
  assert.deepEqual(readdirSync(dir).sort(), ["src", "x", "x.cpio"], "no partial archive, no temporary file");
});
