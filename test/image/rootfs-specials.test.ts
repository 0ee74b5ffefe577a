/**
 * Device nodes and FIFOs of a directory source survive the staging copy
 * (guest set-up, reproducible ext4), and `--device-spec FILE` adds them
 * without root: read back with debugfs (ext4) and GNU cpio.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, linkSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { KILN_FROM_SOURCE, runKiln, scratchDir } from "../helpers/kiln.js";
import { debugfs, e2fsckClean } from "./rootfs-helpers.js";

const isRoot = process.getuid?.() === 0;

/** GNU cpio's `-itv` line for `path` in `archive`. */
function cpioLine(archive: string, path: string): string {
  const listing = execFileSync("cpio", ["-itv", "--numeric-uid-gid", "--quiet", "-F", archive], {
    encoding: "utf8",
  });
  return listing.split("\n").find((l) => l.endsWith(` ${path}`)) ?? `(no ${path} in:\n${listing})`;
}

/**
 * A socket file at `path`: bind, keep a hard link, close (Node unlinks the
 * bound name on close; the link stays, as a socket left by a dead server).
 */
async function makeSocket(path: string): Promise<void> {
  const bound = `${path}.bound`;
  const server = createServer();
  await new Promise<void>((res) => server.listen(bound, res));
  linkSync(bound, path);
  await new Promise((res) => server.close(res));
}

/** A tree with a char device (console, 5 1, group 5), a FIFO, a socket and a hard link; mknod needs root. */
async function makeDeviceTree(root: string): Promise<void> {
  mkdirSync(join(root, "dev"), { recursive: true });
  mkdirSync(join(root, "etc"));
  writeFileSync(join(root, "etc/x"), "x\n");
  linkSync(join(root, "etc/x"), join(root, "etc/y"));
  execFileSync("mknod", ["-m", "0620", join(root, "dev/console"), "c", "5", "1"]);
  execFileSync("chown", ["0:5", join(root, "dev/console")]);
  execFileSync("mkfifo", ["-m", "0600", join(root, "fifo")]);
  await makeSocket(join(root, "sock"));
  chmodSync(join(root, "sock"), 0o750);
}

const noRoot = isRoot
  ? false
  : "mknod needs root (run the tests as root to cover device nodes in a directory)";

test("--hostname keeps a directory's device nodes and FIFOs (ext4, debugfs)", { skip: noRoot }, async (t) => {
  const dir = scratchDir(t);
  const root = join(dir, "root");
  await makeDeviceTree(root);
  const out = join(dir, "vm.ext4");
  const r = await runKiln(["rootfs", "build", root, "-o", out, "--hostname", "vm1", "--keep-owner"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(e2fsckClean(out).code, 0, e2fsckClean(out).output);
  const con = debugfs(out, "stat /dev/console");
  assert.match(con, /Type: character special\s+Mode:\s+0620/);
  assert.match(con, /Device major\/minor number: 05:01/);
  assert.match(con, /User:\s+0\s+Group:\s+5\s/);
  assert.match(debugfs(out, "stat /fifo"), /Type: FIFO\s+Mode:\s+0600/);
  assert.match(debugfs(out, "stat /etc/x"), /Links: 2/);
  assert.match(debugfs(out, "stat /sock"), /Type: socket\s+Mode:\s+0750/);
  assert.equal(debugfs(out, "cat /etc/hostname"), "vm1\n");
});

test("--hostname keeps a directory's device nodes and FIFOs (cpio, GNU cpio)", {
  skip: noRoot,
}, async (t) => {
  const dir = scratchDir(t);
  const root = join(dir, "root");
  await makeDeviceTree(root);
  const out = join(dir, "vm.cpio");
  const r = await runKiln(["rootfs", "build", root, "-o", out, "--hostname", "vm1"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(cpioLine(out, "dev/console"), /^crw--w----\s+1\s+0\s+0\s+5,\s+1\s/);
  assert.match(cpioLine(out, "fifo"), /^prw-------\s/);
  assert.match(cpioLine(out, "sock"), /^srwxr-x---\s/);
  assert.match(cpioLine(out, "etc/hostname"), /^-rw-r--r--\s/);
  // The node keeps its own time, as when the directory is packed in place.
  const ls = await runKiln(["rootfs", "ls", "--json", out]);
  const entries = JSON.parse(ls.stdout) as { path: string; mtimeSec: number }[];
  const con = entries.find((e) => e.path === "dev/console");
  assert.equal(con?.mtimeSec, Math.floor(lstatSync(join(root, "dev/console")).mtimeMs / 1000));
});

test("--reproducible ext4 from a directory keeps device nodes and FIFOs", { skip: noRoot }, async (t) => {
  const dir = scratchDir(t);
  const root = join(dir, "root");
  await makeDeviceTree(root);
  const out = join(dir, "r.ext4");
  const r = await runKiln(["rootfs", "build", root, "-o", out, "--reproducible"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(e2fsckClean(out).code, 0, e2fsckClean(out).output);
  assert.match(debugfs(out, "stat /dev/console"), /Device major\/minor number: 05:01/);
  assert.match(debugfs(out, "stat /fifo"), /Type: FIFO/);
});

test("an unreadable file in a copied source is an error naming the user's path", {
  skip: noRoot,
}, async (t) => {
  const dir = scratchDir(t);
  const root = join(dir, "root");
  mkdirSync(join(root, "etc"), { recursive: true });
  writeFileSync(join(root, "etc/secret"), "s\n");
  chmodSync(join(root, "etc/secret"), 0o000);
  chmodSync(dir, 0o755);
  const out = join(dir, "out");
  mkdirSync(out, { mode: 0o777 });
  chmodSync(out, 0o777);
  // Built as nobody, who cannot read a mode-0000 file.
  const r = await runKilnAsNobody(["rootfs", "build", root, "-o", join(out, "y.cpio"), "--hostname", "vm1"]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(`error: cannot copy ${join(root, "etc/secret")} from the source: EACCES`),
  );
  assert.match(r.stderr, /^hint: /m);
  assert.doesNotMatch(r.stderr, /\.kiln-rootfs-/);
  assert.deepEqual(readdirSync(out), []);
});

async function runKilnAsNobody(args: string[]) {
  try {
    const stdout = execFileSync("runuser", ["-u", "nobody", "--", ...KILN_FROM_SOURCE, ...args], {
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return { code: 0, stdout, stderr: "" };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, stdout: err.stdout, stderr: err.stderr };
  }
}

const SPEC = [
  "# PATH       TYPE MAJOR MINOR MODE UID GID",
  "/dev/console c    5     1     0600 0   0",
  "/run/initctl p    -     -     0600 0   0",
  "/bin/sh      f    -     -     4755 0   0",
  "/home/u      d    -     -     0700 1000 1000",
  "",
].join("\n");

/** A tree an unprivileged user can make: no device nodes at all. */
function makePlainTree(root: string): void {
  mkdirSync(join(root, "bin"), { recursive: true });
  writeFileSync(join(root, "bin/sh"), "#!/bin/true\n");
}

test("--device-spec adds /dev/console to a CPIO (read back by GNU cpio)", async (t) => {
  const dir = scratchDir(t);
  const root = join(dir, "root");
  makePlainTree(root);
  writeFileSync(join(dir, "devices.txt"), SPEC);
  const out = join(dir, "initrd.cpio");
  const r = await runKiln([
    "rootfs",
    "build",
    root,
    "-o",
    out,
    "--device-spec",
    join(dir, "devices.txt"),
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { specials: number }).specials, 2);
  assert.match(cpioLine(out, "dev/console"), /^crw-------\s+1\s+0\s+0\s+5,\s+1\s/);
  assert.match(cpioLine(out, "run/initctl"), /^prw-------\s/);
  assert.match(cpioLine(out, "bin/sh"), /^-rwsr-xr-x\s+1\s+0\s+0\s/);
  assert.match(cpioLine(out, "home/u"), /^drwx------\s+\d+\s+1000\s+1000\s/);
});

test("--device-spec adds /dev/console to ext4 (debugfs); EROFS refuses device lines", async (t) => {
  const dir = scratchDir(t);
  const root = join(dir, "root");
  makePlainTree(root);
  const spec = join(dir, "devices.txt");
  writeFileSync(spec, SPEC);
  const out = join(dir, "root.ext4");
  const r = await runKiln(["rootfs", "build", root, "-o", out, "--device-spec", spec]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(e2fsckClean(out).code, 0, e2fsckClean(out).output);
  const con = debugfs(out, "stat /dev/console");
  assert.match(con, /Type: character special\s+Mode:\s+0600/);
  assert.match(con, /Device major\/minor number: 05:01/);
  assert.match(debugfs(out, "stat /run/initctl"), /Type: FIFO\s+Mode:\s+0600/);
  assert.match(debugfs(out, "stat /bin/sh"), /Mode:\s+04755/);
  assert.match(debugfs(out, "stat /home/u"), /User:\s+1000\s+Group:\s+1000\s/);
  const e = await runKiln(["rootfs", "build", root, "-o", join(dir, "x.erofs"), "--device-spec", spec]);
  assert.equal(e.code, 1, e.stderr);
  assert.match(e.stderr, /error: mkfs\.erofs cannot add device nodes or FIFOs the source lacks/);
  assert.match(e.stderr, /^hint: /m);
});

test("a bad --device-spec line is an error at FILE:line:col with the value seen; nothing is written", async (t) => {
  const dir = scratchDir(t);
  const root = join(dir, "root");
  makePlainTree(root);
  const spec = join(dir, "devices.txt");
  writeFileSync(spec, "/dev/console c 5 1 0600 0 0\n/dev/null c 1 three 0666 0 0\n");
  for (const fmt of ["cpio", "ext4"]) {
    const r = await runKiln(["rootfs", "build", root, "-o", join(dir, `x.${fmt}`), "--device-spec", spec]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`error: ${spec}:2:15: MINOR must be a decimal number .*; got "three"`));
    assert.match(r.stderr, /^hint: /m);
  }
  writeFileSync(spec, "/etc/missing f - - 0600 0 0\n");
  for (const fmt of ["cpio", "ext4"]) {
    const r = await runKiln(["rootfs", "build", root, "-o", join(dir, `x.${fmt}`), "--device-spec", spec]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`error: ${spec}:1:1: "f" line names etc/missing, which is not a file`));
  }
  const m = await runKiln([
    "rootfs",
    "build",
    root,
    "-o",
    join(dir, "x.cpio"),
    "--device-spec",
    join(dir, "nope"),
  ]);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /error: cannot read device spec .*nope: no such file/);
  assert.match(m.stderr, /^hint: /m);
  assert.deepEqual(readdirSync(dir).sort(), ["devices.txt", "root"]);
});
