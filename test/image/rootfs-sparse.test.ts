/**
 * Issue 9 item 6: sparse files in tar archives made by GNU tar itself. PAX
 * 1.0 sparse entries are unpacked to the right name, size and bytes (holes
 * stay holes); old GNU sparse entries (typeflag `S`) are refused, never
 * written as a wrong file.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runKiln, scratchDir } from "../helpers/kiln.js";

const SIZE = 20 * 1024 * 1024;

/** A 20 MiB file with two data regions (one at the very end), and its expected bytes at those places. */
function sparseTree(dir: string): string {
  const tree = join(dir, "tree");
  mkdirSync(join(tree, "d"), { recursive: true });
  const f = join(tree, "d", "sp.img");
  execFileSync("truncate", ["-s", String(SIZE), f]);
  execFileSync("sh", ["-c", `printf 'hello' | dd of='${f}' bs=1 seek=10000000 conv=notrunc status=none`]);
  execFileSync("sh", ["-c", `printf 'tail!' | dd of='${f}' bs=1 seek=${SIZE - 5} conv=notrunc status=none`]);
  writeFileSync(join(tree, "after"), "after the sparse file\n");
  return tree;
}

test("a PAX 1.0 sparse entry (tar --sparse --format=pax) unpacks to its real name, size and bytes", async (t) => {
  const dir = scratchDir(t);
  const tree = sparseTree(dir);
  const tar = join(dir, "pax.tar");
  execFileSync("tar", ["--sparse", "--format=pax", "-C", tree, "-cf", tar, "d", "after"]);
  assert.ok(statSync(tar).size < 1024 * 1024, "the archive itself is sparse");
  const out = join(dir, "img.cpio");
  const r = await runKiln(["rootfs", "build", tar, "-o", out]);
  assert.equal(r.code, 0, r.stderr);
  const x = join(dir, "x");
  mkdirSync(x);
  execFileSync("sh", ["-c", `cd '${x}' && cpio -idm --quiet < '${out}'`]);
  assert.deepEqual(readdirSync(x).sort(), ["after", "d"]);
  assert.deepEqual(readdirSync(join(x, "d")), ["sp.img"]);
  const got = readFileSync(join(x, "d", "sp.img"));
  assert.equal(got.length, SIZE);
  assert.ok(got.equals(readFileSync(join(tree, "d", "sp.img"))), "same bytes as the original");
  assert.equal(readFileSync(join(x, "after"), "utf8"), "after the sparse file\n");
});

test("an old GNU sparse entry (typeflag S) is refused, no image written", async (t) => {
  const dir = scratchDir(t);
  const tree = sparseTree(dir);
  const out = join(dir, "out");
  mkdirSync(out);
  for (const format of ["gnu", "oldgnu"]) {
    const tar = join(dir, `${format}.tar`);
    execFileSync("tar", ["--sparse", `--format=${format}`, "-C", tree, "-cf", tar, "d"]);
    const r = await runKiln(["rootfs", "build", tar, "-o", join(out, "img.ext4")]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^error: entry "d\/sp\.img" in .* has a tar entry type Kiln does not know \(such as an old GNU sparse file\)$/m,
    );
    assert.match(r.stderr, /^hint: re-create the archive without --sparse/m);
    assert.deepEqual(readdirSync(out), []);
  }
});

test("a file too big for CPIO is refused from its tar header while staging, before any byte is written", async (t) => {
  const dir = scratchDir(t);
  const tree = join(dir, "tree");
  mkdirSync(tree);
  // 5 GiB of hole: the archive is a few KiB, as a gzip bomb's would be.
  execFileSync("truncate", ["-s", "5G", join(tree, "huge")]);
  const tar = join(dir, "bomb.tar");
  execFileSync("tar", ["--sparse", "--format=pax", "-C", tree, "-cf", tar, "huge"]);
  const out = join(dir, "out");
  mkdirSync(out);
  const r = await runKiln(["rootfs", "build", tar, "-o", join(out, "img.cpio")]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /^error: entry "huge" in bomb\.tar is 5368709120 bytes, more than the newc limit of 4294967295 \(4 GiB - 1\)$/m,
  );
  assert.match(r.stderr, /^hint: CPIO newc cannot hold files of 4 GiB or more/m);
  assert.deepEqual(readdirSync(out), []);
});
