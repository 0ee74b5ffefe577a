import assert from "node:assert/strict";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { SHARE_MANIFEST, shareBuildDirs, unshareBuildDir } from "./share.js";

function scratch(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), "kiln-share-"));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function put(dir: string, rel: string, text: string, mtimeS: number): string {
  const p = join(dir, rel);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, text);
  utimesSync(p, mtimeS, mtimeS);
  return p;
}

const ino = (p: string) => statSync(p).ino;

test("identical files at the same path are stored once, keeping the newest mtime; the rest stay apart", async (t) => {
  const root = scratch(t);
  const a = join(root, "a");
  const b = join(root, "b");
  put(a, "libfoo/foo.o", "same object", 1_000);
  put(b, "libfoo/foo.o", "same object", 2_000);
  put(a, "app/main.o", "main for a", 1_000);
  put(b, "app/main.o", "main for b", 2_000);
  put(a, "libfoo/x.tar.gz", "archive", 1_000);
  put(b, "libfoo/x.tar.gz", "archive", 1_000);
  put(a, "image", "an image", 1_000);
  put(b, "image", "an image", 1_000);
  put(a, ".kiln-steps", "12", 1_000);
  put(b, ".kiln-steps", "12", 1_000);
  put(a, "libfoo/mode.o", "same bytes", 1_000);
  put(b, "libfoo/mode.o", "same bytes", 1_000);
  chmodSync(join(b, "libfoo/mode.o"), 0o600);

  const r = await shareBuildDirs([
    { dir: a, exclude: ["libfoo/x.tar.gz", "image"] },
    { dir: b, exclude: ["libfoo/x.tar.gz", "image"] },
  ]);
  assert.equal(r.method, "link", "this filesystem has no reflinks");
  assert.equal(r.linkedFiles, 1);
  assert.equal(r.savedBytes, "same object".length);
  assert.equal(ino(join(a, "libfoo/foo.o")), ino(join(b, "libfoo/foo.o")));
  assert.equal(statSync(join(a, "libfoo/foo.o")).mtimeMs, 2_000_000, "the newest copy is kept");
  for (const rel of ["app/main.o", "libfoo/x.tar.gz", "image", "libfoo/mode.o", ".kiln-steps"]) {
    assert.notEqual(ino(join(a, rel)), ino(join(b, rel)), rel);
  }
  // Each directory remembers the mtime its own build gave the file.
  const manifest = JSON.parse(readFileSync(join(a, SHARE_MANIFEST), "utf8"));
  assert.deepEqual(Object.keys(manifest.files), ["libfoo/foo.o"]);

  // A second pass finds nothing new.
  const again = await shareBuildDirs([{ dir: a }, { dir: b }]);
  assert.equal(again.linkedFiles, 2, "the archive and the image, not excluded this time");
  assert.equal(ino(join(a, "libfoo/x.tar.gz")), ino(join(b, "libfoo/x.tar.gz")));
  assert.notEqual(ino(join(a, ".kiln-steps")), ino(join(b, ".kiln-steps")), "Kiln's own files, never");
});

test("unsharing gives a directory private copies with its own mtimes, and a write then stays in it", async (t) => {
  const root = scratch(t);
  const a = join(root, "a");
  const b = join(root, "b");
  const c = join(root, "c");
  put(a, "lib/x.o", "x", 1_000);
  put(b, "lib/x.o", "x", 3_000);
  put(c, "lib/x.o", "x", 2_000);
  const r = await shareBuildDirs([{ dir: a }, { dir: b }, { dir: c }]);
  assert.equal(r.linkedFiles, 2);
  assert.equal(statSync(join(a, "lib/x.o")).nlink, 3);

  const u = await unshareBuildDir(a);
  assert.deepEqual([u.copiedFiles, u.copiedBytes], [1, 1]);
  assert.equal(existsSync(join(a, SHARE_MANIFEST)), false);
  assert.equal(statSync(join(a, "lib/x.o")).mtimeMs, 1_000_000, "a's own mtime is back");
  assert.equal(statSync(join(a, "lib/x.o")).nlink, 1);
  assert.equal(statSync(join(b, "lib/x.o")).nlink, 2);
  // What make does to an object: open with O_TRUNC and write in place.
  writeFileSync(join(a, "lib/x.o"), "rebuilt");
  assert.equal(readFileSync(join(b, "lib/x.o"), "utf8"), "x");
  assert.equal(readFileSync(join(c, "lib/x.o"), "utf8"), "x");

  // c unshared too: b's copy is its own again (one link left), with b's mtime kept.
  assert.equal((await unshareBuildDir(c)).copiedFiles, 1);
  assert.equal(statSync(join(c, "lib/x.o")).mtimeMs, 2_000_000);
  assert.equal((await unshareBuildDir(b)).copiedFiles, 0);
  assert.equal(statSync(join(b, "lib/x.o")).mtimeMs, 3_000_000);
  // Nothing shared: nothing to do.
  assert.deepEqual((await unshareBuildDir(b)).copiedFiles, 0);
});

test("a damaged manifest unshares every file that has another link, so make never writes through one", async (t) => {
  const root = scratch(t);
  const a = join(root, "a");
  const b = join(root, "b");
  put(a, "lib/x.o", "x", 1_000);
  put(b, "lib/x.o", "x", 2_000);
  await shareBuildDirs([{ dir: a }, { dir: b }]);
  writeFileSync(join(a, SHARE_MANIFEST), "{ not json");
  const u = await unshareBuildDir(a);
  assert.equal(u.copiedFiles, 1);
  assert.equal(statSync(join(a, "lib/x.o")).nlink, 1);
  assert.equal(statSync(join(a, "lib/x.o")).mtimeMs, 2_000_000, "the shared mtime, the own one being lost");
  assert.equal(existsSync(join(a, SHARE_MANIFEST)), false);
});
