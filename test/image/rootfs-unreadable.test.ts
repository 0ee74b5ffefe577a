/**
 * Issue 9 items 7 and 8: a tree the user cannot read is a clear user error in
 * every format, naming the path, never a crash: `.cpio.gz` used to report
 * `EBADF ... close` (a second close hid the real error) and ext4 an `EACCES
 * scandir` stack trace. Run as `nobody` on a tree owned by root.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { KILN_FROM_SOURCE, scratchDir } from "../helpers/kiln.js";

function runAsNobody(args: string[]): { code: number; stderr: string } {
  try {
    execFileSync("runuser", ["-u", "nobody", "--", ...KILN_FROM_SOURCE, ...args], {
      cwd: "/",
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return { code: 0, stderr: "" };
  } catch (e) {
    const err = e as { status: number; stderr: Buffer };
    return { code: err.status, stderr: err.stderr.toString() };
  }
}

test("an unreadable directory or file in the tree is a clear error for ext4, cpio and cpio.gz (as nobody)", {
  skip: process.getuid?.() === 0 ? false : "switching to nobody needs root",
}, async (t) => {
  const dir = scratchDir(t);
  chmodSync(dir, 0o755);
  const dirTree = join(dir, "dir-tree");
  mkdirSync(join(dirTree, "secret"), { recursive: true });
  writeFileSync(join(dirTree, "secret", "x"), "x\n");
  writeFileSync(join(dirTree, "ok"), "ok\n");
  chmodSync(join(dirTree, "secret"), 0o700);
  const fileTree = join(dir, "file-tree");
  mkdirSync(fileTree);
  writeFileSync(join(fileTree, "unreadable"), "x\n");
  chmodSync(join(fileTree, "unreadable"), 0o000);
  const out = join(dir, "out");
  mkdirSync(out);
  chmodSync(out, 0o777);
  for (const name of ["x.ext4", "x.cpio", "x.cpio.gz"]) {
    const r = runAsNobody(["rootfs", "build", dirTree, "-o", join(out, name)]);
    assert.equal(r.code, 1, `${name}: ${r.stderr}`);
    assert.match(r.stderr, /^error: cannot list .*\/dir-tree\/secret: .*EACCES/m, name);
    assert.match(r.stderr, /^hint: Kiln needs read access to every file of the tree/m, name);
    assert.doesNotMatch(r.stderr, /EBADF|internal error|at .*\.[jt]s:\d+/, name);
  }
  const gz = runAsNobody(["rootfs", "build", fileTree, "-o", join(out, "y.cpio.gz")]);
  assert.equal(gz.code, 1, gz.stderr);
  assert.match(gz.stderr, /^error: cannot open .*\/file-tree\/unreadable: EACCES/m);
  assert.doesNotMatch(gz.stderr, /EBADF|internal error/);
  assert.deepEqual(readdirSync(out), [], "no image and no temporary file left");
});
