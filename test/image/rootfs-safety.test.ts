/**
 * Archive entries that would land outside the root are rejected, naming the
 * entry; nothing is written outside the output, and no partial image is left.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { KILN_FROM_SOURCE, REPO_ROOT, runKiln, scratchDir } from "../helpers/kiln.js";
import { makeOciLayout, makeTar, type TarEntry } from "./rootfs-helpers.js";

const CASES: { what: string; entries: TarEntry[]; entry: string; why: RegExp }[] = [
  {
    what: "a ../ path",
    entries: [
      { name: "ok", content: "fine" },
      { name: "../escaped", content: "pwned" },
    ],
    entry: "../escaped",
    why: /contains '\.\.'/,
  },
  {
    what: "a deeper ../ path",
    entries: [{ name: "a/b/../../../escaped", content: "pwned" }],
    entry: "a/b/../../../escaped",
    why: /contains '\.\.'/,
  },
  {
    what: "an absolute path",
    entries: [{ name: "/escaped", content: "pwned" }],
    entry: "/escaped",
    why: /is an absolute path/,
  },
  {
    what: "a write through a symlink to /etc",
    entries: [
      { name: "a", type: "symlink", linkname: "OUTSIDE" },
      { name: "a/escaped", content: "pwned" },
    ],
    entry: "a/escaped",
    why: /would be written through the symlink "a"/,
  },
  {
    what: "a write through a relative symlink chain",
    entries: [
      { name: "b", type: "symlink", linkname: "c" },
      { name: "c", type: "symlink", linkname: "../.." },
      { name: "b/escaped", content: "pwned" },
    ],
    entry: "b/escaped",
    why: /would be written through the symlink "b"/,
  },
  {
    what: "a hard link to a file outside",
    entries: [{ name: "h", type: "link", linkname: "../../etc/passwd" }],
    entry: "h",
    why: /is a hard link to "\.\.\/\.\.\/etc\/passwd", outside the root/,
  },
];

for (const c of CASES) {
  for (const fmt of ["ext4", "cpio"]) {
    test(`tar with ${c.what} is rejected (${fmt})`, async (t) => {
      const dir = scratchDir(t);
      const outside = join(dir, "outside");
      mkdirSync(outside);
      const work = join(dir, "work", "deep");
      mkdirSync(work, { recursive: true });
      const entries = c.entries.map((e) => (e.linkname === "OUTSIDE" ? { ...e, linkname: outside } : e));
      const tar = join(work, "evil.tar");
      writeFileSync(tar, await makeTar(entries));
      const outDir = join(work, "out");
      const r = await runKiln(["rootfs", "build", tar, "-o", join(outDir, `img.${fmt}`)]);
      assert.equal(r.code, 1, r.stderr);
      assert.ok(r.stderr.includes(`entry "${c.entry}"`), r.stderr);
      assert.match(r.stderr, c.why);
      assert.match(r.stderr, /^error: /m);
      assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, "no stack trace");
      // Nothing escaped, and nothing (no image, no staging, no temp file) was left behind.
      assert.deepEqual(readdirSync(outside), []);
      assert.ok(!existsSync(join(dir, "escaped")) && !existsSync(join(dir, "work", "escaped")));
      assert.ok(!existsSync(join(work, "escaped")));
      assert.deepEqual(readdirSync(outDir), []);
    });
  }
}

test("not an archive, missing source, unknown output extension: clear errors", async (t) => {
  const dir = scratchDir(t);
  const junk = join(dir, "junk.tar");
  writeFileSync(junk, "this is not a tar archive at all, just text".repeat(20));
  const a = await runKiln(["rootfs", "build", junk, "-o", join(dir, "x.ext4")]);
  assert.equal(a.code, 1);
  assert.match(a.stderr, /error: source ".*junk\.tar" is neither a directory nor a tar or tar\.gz archive/);
  const b = await runKiln(["rootfs", "build", join(dir, "nope"), "-o", join(dir, "x.ext4")]);
  assert.equal(b.code, 1);
  assert.match(b.stderr, /error: source ".*nope" does not exist/);
  const c = await runKiln(["rootfs", "build", dir, "-o", join(dir, "x.bin")]);
  assert.equal(c.code, 1);
  assert.match(c.stderr, /cannot tell the image format from the output name ".*x\.bin"/);
  const d = await runKiln(["rootfs", "build", dir, "-o", join(dir, "x.img"), "--format", "zip"]);
  assert.equal(d.code, 2);
  assert.match(d.stderr, /--format "zip" is not one of cpio, ext4, erofs/);
  const big = join(dir, "big");
  mkdirSync(big);
  writeFileSync(join(big, "blob"), Buffer.alloc(3 * 1024 * 1024, 7));
  const e = await runKiln(["rootfs", "build", big, "-o", join(dir, "small.ext4"), "--size", "1M"]);
  assert.equal(e.code, 1);
  assert.match(
    e.stderr,
    /error: ext4 size 1\.0 MiB is smaller than the content \(3\.\d MiB of data and inodes\)/,
  );
  const f = await runKiln(["rootfs", "build", big, "-o", join(big, "self.ext4")]);
  assert.equal(f.code, 1);
  assert.match(f.stderr, /error: output .*self\.ext4 is inside the source directory/);
  // CPIO can be written inside its source (the writer skips it); no staging directory lands in the tree.
  const g = await runKiln(["rootfs", "build", big, "-o", join(big, "self.cpio")]);
  assert.equal(g.code, 0, g.stderr);
  const listed = await runKiln(["rootfs", "ls", join(big, "self.cpio")]);
  assert.deepEqual(listed.stdout.trim().split("\n"), ["blob"]);
  assert.deepEqual(readdirSync(big).sort(), ["blob", "self.cpio"]);
  assert.deepEqual(readdirSync(dir).sort(), ["big", "junk.tar"]);
});

test("Ctrl-C during a build leaves no image, no staging directory and no temporary file", async (t) => {
  const dir = scratchDir(t);
  const entries: TarEntry[] = [];
  for (let i = 0; i < 20_000; i++) entries.push({ name: `d${i % 100}/f${i}`, content: `file ${i}\n` });
  const tar = join(dir, "many.tar");
  writeFileSync(tar, await makeTar(entries));
  const outDir = join(dir, "out");
  const child = spawn(
    KILN_FROM_SOURCE[0]!,
    [...KILN_FROM_SOURCE.slice(1), "rootfs", "build", tar, "-o", join(outDir, "img.ext4")],
    { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  let sent = false;
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
    // The first progress line means staging is under way: interrupt then.
    if (!sent && /entries/.test(stderr)) {
      sent = true;
      child.kill("SIGINT");
    }
  });
  const code = await new Promise<number | null>((r) => child.on("close", r));
  assert.ok(sent, `no progress seen: ${stderr}`);
  assert.equal(code, 130, stderr);
  assert.deepEqual(readdirSync(outDir), []);
});

test("a directory replaced by a symlink in a later layer: its recorded mode is not applied through the link", async (t) => {
  const dir = scratchDir(t);
  const outside = join(dir, "outside");
  mkdirSync(join(outside, "b"), { recursive: true, mode: 0o755 });
  const before = statSync(join(outside, "b"));
  const layout = join(dir, "layout");
  await makeOciLayout(layout, [
    [
      { name: "a/", type: "directory" },
      { name: "a/b/", type: "directory", mode: 0o700 },
    ],
    [{ name: "a", type: "symlink", linkname: outside }],
  ]);
  const r = await runKiln(["rootfs", "build", layout, "-o", join(dir, "img.erofs")]);
  assert.equal(r.code, 0, r.stderr);
  const after = statSync(join(outside, "b"));
  assert.equal(after.mode & 0o7777, 0o755);
  assert.equal(after.mtimeMs, before.mtimeMs);
});

/** Run the CLI as `nobody` (needs root to switch user). */
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

function assertUserError(r: { code: number | null; stderr: string }, message: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, message);
  assert.match(r.stderr, /^hint: /m);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, "no stack trace");
  assert.doesNotMatch(r.stderr, /internal error/);
}

test("an unwritable output location is a user error before any work (as nobody)", {
  skip: process.getuid?.() === 0 ? false : "switching to nobody needs root",
}, async (t) => {
  const dir = scratchDir(t);
  chmodSync(dir, 0o755);
  const root = join(dir, "root");
  mkdirSync(root);
  writeFileSync(join(root, "f"), "x\n");
  const before = readdirSync("/usr");
  const usr = runAsNobody(["rootfs", "build", root, "-o", "/usr/x.cpio"]);
  assertUserError(usr, /^error: cannot write \/usr\/x\.cpio: permission denied \(EACCES\)$/m);
  assert.deepEqual(readdirSync("/usr"), before);
  const proc = runAsNobody(["rootfs", "build", root, "-o", "/proc/x.cpio"]);
  assertUserError(proc, /^error: cannot write \/proc\/x\.cpio: /m);
  const ext4 = runAsNobody(["rootfs", "build", root, "-o", "/usr/x.ext4", "--hostname", "vm1"]);
  assertUserError(ext4, /^error: cannot write \/usr\/x\.ext4: permission denied/m);
  assert.deepEqual(readdirSync("/usr"), before);
});

test("-o naming a directory or the source itself is refused up front; --uuid on cpio warns", async (t) => {
  const dir = scratchDir(t);
  const root = join(dir, "root");
  mkdirSync(root);
  writeFileSync(join(root, "f"), "x\n");
  mkdirSync(join(dir, "x.cpio"));
  const a = await runKiln(["rootfs", "build", root, "-o", join(dir, "x.cpio")]);
  assertUserError(a, /^error: output .*x\.cpio is an existing directory$/m);
  assert.deepEqual(readdirSync(join(dir, "x.cpio")), []);
  const tar = join(dir, "t.tar");
  writeFileSync(tar, await makeTar([{ name: "f", content: "x\n" }]));
  const tarBytes = readFileSync(tar);
  const b = await runKiln(["rootfs", "build", tar, "-o", tar, "--format", "cpio"]);
  assertUserError(b, /^error: output .*t\.tar is the source .*t\.tar itself$/m);
  assert.deepEqual(readFileSync(tar), tarBytes);
  assert.deepEqual(readdirSync(dir).sort(), ["root", "t.tar", "x.cpio"]);
  const c = await runKiln(["rootfs", "build", root, "-o", join(dir, "u.cpio"), "--uuid", "xyz"]);
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stderr, /warning: --uuid applies to ext4 and erofs images only; ignored for cpio/);
  assert.doesNotMatch(c.stdout, /UUID/);
  // Progress without a TTY names what it counts.
  assert.match(c.stderr, /Packing .*u\.cpio \d+ entries, [\d.]+ (B|KiB)/);
  const d = await runKiln(["rootfs", "build", root, "-o", join(dir, "u.ext4"), "--uuid", "xyz"]);
  assertUserError(d, /^error: UUID "xyz" is not of the form/m);
  assert.ok(!existsSync(join(dir, "u.ext4")));
});

test("user errors of rootfs ls and rootfs build carry a hint", async (t) => {
  const dir = scratchDir(t);
  const nope = await runKiln(["rootfs", "ls", join(dir, "nope")]);
  assertUserError(nope, /^error: cannot read .*nope: no such file$/m);
  const isDir = await runKiln(["rootfs", "ls", dir]);
  assertUserError(isDir, /^error: .* is a directory, not a CPIO archive$/m);
  const zip = await runKiln(["rootfs", "build", dir, "-o", join(dir, "x.img"), "--format", "zip"]);
  assert.equal(zip.code, 2);
  assert.match(zip.stderr, /^hint: /m);
  const epoch = await runKiln(["rootfs", "build", dir, "-o", join(dir, "x.cpio")], {
    env: { SOURCE_DATE_EPOCH: "abc" },
  });
  assertUserError(epoch, /^error: SOURCE_DATE_EPOCH must be whole seconds since 1970; got "abc"$/m);
});
