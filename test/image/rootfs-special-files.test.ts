/**
 * Issue 9 items 3 and 10: inputs and outputs that are not regular files. A
 * FIFO given where a file is read would block for ever (and a blocked open is
 * deaf to SIGTERM); an existing output that is a device node must never be
 * renamed over. Both are refused before any work.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runKiln, scratchDir } from "../helpers/kiln.js";

function fifo(path: string): string {
  execFileSync("mkfifo", [path]);
  return path;
}

function assertRefused(r: { code: number | null; stderr: string }, message: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, message);
  assert.match(r.stderr, /^hint: /m);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, "no stack trace");
}

test("a FIFO as rootfs source, kernel, --initrd or --rootfs is refused, not read", async (t) => {
  const dir = scratchDir(t);
  const f = fifo(join(dir, "f"));
  const env = { KILN_HOME: join(dir, "home") };
  // A hang would hit runKiln's kill timer and fail on the exit code.
  const opts = { env, timeoutMs: 30_000 };
  const src = await runKiln(["rootfs", "build", f, "-o", join(dir, "x.cpio")], opts);
  assertRefused(src, /^error: source ".*\/f" is a FIFO \(named pipe\), not a directory or an archive file$/m);
  const kernel = await runKiln(["run", "-W", f], opts);
  assertRefused(kernel, /^error: kernel .*\/f is a FIFO \(named pipe\), not a kernel file$/m);
  const k = join(dir, "bzImage");
  // Enough of a Linux boot header for detection; the run is refused before QEMU starts.
  const head = Buffer.alloc(4096);
  head.write("HdrS", 0x202, "latin1");
  writeFileSync(k, head);
  const initrd = await runKiln(["run", "-W", k, "--initrd", f], opts);
  assertRefused(initrd, /^error: --initrd .*\/f is a FIFO \(named pipe\), not a file$/m);
  const rootfs = await runKiln(["run", "-W", k, "--rootfs", f], opts);
  assertRefused(rootfs, /^error: --rootfs .*\/f is a FIFO \(named pipe\), not a file$/m);
  assert.ok(!existsSync(join(dir, "x.cpio")), "no image from the FIFO");
});

test("an existing output that is not a regular file is refused before any work", async (t) => {
  const dir = scratchDir(t);
  const root = join(dir, "root");
  mkdirSync(root);
  writeFileSync(join(root, "f"), "x\n");
  const out = fifo(join(dir, "out.cpio"));
  const r = await runKiln(["rootfs", "build", root, "-o", out], { timeoutMs: 30_000 });
  assertRefused(r, /^error: output .*out\.cpio exists and is a FIFO \(named pipe\)$/m);
  assert.ok(statSync(out).isFIFO());
  assert.deepEqual(readdirSync(dir).sort(), ["out.cpio", "root"]);
});

test("-o /dev/null as root leaves the device node alone", {
  skip: process.getuid?.() === 0 ? false : "replacing /dev/null needs root, which the bug needed too",
}, async (t) => {
  const dir = scratchDir(t);
  const root = join(dir, "root");
  mkdirSync(root);
  writeFileSync(join(root, "f"), "x\n");
  for (const fmt of ["cpio", "ext4"]) {
    const r = await runKiln(["rootfs", "build", root, "-o", "/dev/null", "--format", fmt], {
      timeoutMs: 60_000,
    });
    assertRefused(r, /^error: output \/dev\/null exists and is a character device$/m);
    assert.ok(statSync("/dev/null").isCharacterDevice(), "/dev/null is still a device");
  }
});
