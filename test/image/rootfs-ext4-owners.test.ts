/**
 * ext4 owners when an ordinary user builds from a directory: mkfs.ext4 runs
 * in a user namespace (the builder's files read as root's, no fix-up pass)
 * or, with KILN_USERNS=0, without one (a debugfs fix-up per entry). Both
 * must give the same image: every entry root-owned, or with --keep-owner the
 * host owners. Checked with e2fsck and debugfs.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { KILN_FROM_SOURCE, REPO_ROOT, scratchDir } from "../helpers/kiln.js";
import { debugfs, e2fsckClean, ext4Ls } from "./rootfs-helpers.js";

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

/** A tree owned by nobody, with one file of another user (1234) that nobody can read. */
function makeTree(root: string): void {
  mkdirSync(join(root, "etc/sub"), { recursive: true });
  writeFileSync(join(root, "etc/hostname"), "owned\n");
  writeFileSync(join(root, "etc/sub/other"), "someone else's\n");
  symlinkSync("hostname", join(root, "etc/name"));
  execFileSync("chown", ["-hR", `${NOBODY}:${NOBODY}`, root]);
  chownSync(join(root, "etc/sub/other"), 1234, 1234);
  chmodSync(join(root, "etc/sub/other"), 0o644);
}

function buildAsNobody(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  execFileSync("runuser", ["-u", "nobody", "--", ...KILN_FROM_SOURCE, "rootfs", "build", ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: "1", KILN_HOME: join(dir, "home"), ...env },
    stdio: "pipe",
  });
}

for (const userns of ["1", "0"]) {
  test(`as nobody (KILN_USERNS=${userns}): a directory nobody owns becomes a root-owned ext4`, {
    skip: asRoot ? false : "needs root to switch to the unprivileged user nobody",
  }, (t) => {
    const dir = scratchDir(t);
    chmodSync(dir, 0o777);
    const root = join(dir, "root");
    makeTree(root);
    const out = join(dir, "out.ext4");
    buildAsNobody(dir, [root, "-o", out], { KILN_USERNS: userns });
    assert.equal(e2fsckClean(out).code, 0, e2fsckClean(out).output);
    assert.equal(debugfs(out, "cat /etc/hostname"), "owned\n");
    assert.deepEqual(ext4Ls(out, "/").get("etc"), { mode: "40755", uid: 0, gid: 0 });
    assert.deepEqual(ext4Ls(out, "/etc").get("hostname"), { mode: "100644", uid: 0, gid: 0 });
    assert.deepEqual(ext4Ls(out, "/etc").get("name"), { mode: "120777", uid: 0, gid: 0 });
    assert.deepEqual(ext4Ls(out, "/etc/sub").get("other"), { mode: "100644", uid: 0, gid: 0 });
    assert.match(debugfs(out, "stat /"), /User:\s+0\s+Group:\s+0/);
  });

  test(`as nobody (KILN_USERNS=${userns}): a root-owned directory stays root-owned`, {
    skip: asRoot ? false : "needs root to switch to the unprivileged user nobody",
  }, (t) => {
    const dir = scratchDir(t);
    chmodSync(dir, 0o777);
    const root = join(dir, "root");
    makeTree(root);
    execFileSync("chown", ["-hR", "0:0", root]);
    const out = join(dir, "rootowned.ext4");
    buildAsNobody(dir, [root, "-o", out], { KILN_USERNS: userns });
    assert.equal(e2fsckClean(out).code, 0, e2fsckClean(out).output);
    assert.deepEqual(ext4Ls(out, "/etc").get("hostname"), { mode: "100644", uid: 0, gid: 0 });
    assert.deepEqual(ext4Ls(out, "/etc/sub").get("other"), { mode: "100644", uid: 0, gid: 0 });
  });

  test(`as nobody (KILN_USERNS=${userns}) with --keep-owner: host owners kept`, {
    skip: asRoot ? false : "needs root to switch to the unprivileged user nobody",
  }, (t) => {
    const dir = scratchDir(t);
    chmodSync(dir, 0o777);
    const root = join(dir, "root");
    makeTree(root);
    const out = join(dir, "keep.ext4");
    buildAsNobody(dir, [root, "-o", out, "--keep-owner"], { KILN_USERNS: userns });
    assert.equal(e2fsckClean(out).code, 0, e2fsckClean(out).output);
    assert.deepEqual(ext4Ls(out, "/etc").get("hostname"), { mode: "100644", uid: NOBODY, gid: NOBODY });
    assert.deepEqual(ext4Ls(out, "/etc/sub").get("other"), { mode: "100644", uid: 1234, gid: 1234 });
  });
}
