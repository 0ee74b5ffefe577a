/**
 * `--device-spec` into ext4 from a directory takes the spec as metadata and
 * debugfs commands, leaving the source in place (no staging copy): nodes
 * made with mknod (replacing a file of the tree in the image only), missing
 * directories made, modes and owners set. The same tree as a tarball goes
 * through the staged path (applyDeviceSpec on an extracted copy): both
 * images must show the guest the same entries; both e2fsck clean; the
 * source unchanged.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { lstatSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { debugfs, e2fsckClean, ext4Ls } from "./rootfs-helpers.js";

const SPEC = [
  "/dev/null c 1 3 0666 0 0",
  "/dev/console c 5 1 0600 0 0",
  "/run/initctl p 0 0 0600 0 0",
  "/var/mail d 0 0 2775 0 8",
  "/bin/sh f 0 0 4755 0 0",
  "/etc d 0 0 0700 0 0",
  "",
].join("\n");

function view(image: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const d of ["/", "/dev", "/run", "/var", "/var/mail", "/bin", "/etc"]) {
    const ls = ext4Ls(image, d);
    ls.delete(".");
    ls.delete("..");
    out[d] = Object.fromEntries([...ls].sort(([a], [b]) => (a < b ? -1 : 1)));
  }
  out.null = /Device major\/minor number: \S+/.exec(debugfs(image, "stat /dev/null"))?.[0];
  out.console = /Device major\/minor number: \S+/.exec(debugfs(image, "stat /dev/console"))?.[0];
  return out;
}

test("--device-spec → ext4 without a staging copy matches the staged build", async (t) => {
  const dir = scratchDir(t);
  const root = join(dir, "root");
  for (const d of ["etc", "dev", "bin", "var"]) mkdirSync(join(root, d), { recursive: true, mode: 0o755 });
  writeFileSync(join(root, "etc/hostname"), "spec\n");
  writeFileSync(join(root, "dev/null"), "a plain file the spec turns into a device\n");
  writeFileSync(join(root, "bin/sh"), "#!/bin/true\n", { mode: 0o755 });
  const spec = join(dir, "devices.txt");
  writeFileSync(spec, SPEC);
  const tar = join(dir, "root.tar");
  execFileSync("tar", ["--owner=0", "--group=0", "--numeric-owner", "-C", root, "-cf", tar, "."]);

  const inPlace = join(dir, "inplace.ext4");
  const staged = join(dir, "staged.ext4");
  const a = await runKiln(["rootfs", "build", root, "-o", inPlace, "--device-spec", spec, "--json"]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(JSON.parse(a.stdout).specials, 3);
  const b = await runKiln(["rootfs", "build", tar, "-o", staged, "--device-spec", spec]);
  assert.equal(b.code, 0, b.stderr);
  for (const img of [inPlace, staged]) assert.equal(e2fsckClean(img).code, 0, e2fsckClean(img).output);

  const got = view(inPlace);
  assert.deepEqual(got, view(staged));
  const at = (d: string, name: string) => (got[d] as Record<string, unknown>)[name];
  assert.deepEqual(at("/dev", "null"), { mode: "20666", uid: 0, gid: 0 });
  assert.equal(got.null, "Device major/minor number: 01:03");
  assert.deepEqual(at("/run", "initctl"), { mode: "10600", uid: 0, gid: 0 });
  assert.deepEqual(at("/var", "mail"), { mode: "42775", uid: 0, gid: 8 });
  assert.deepEqual(at("/bin", "sh"), { mode: "104755", uid: 0, gid: 0 });
  assert.deepEqual(at("/", "etc"), { mode: "40700", uid: 0, gid: 0 });
  assert.equal(debugfs(inPlace, "cat /etc/hostname"), "spec\n");
  // The source is untouched: its dev/null is still a file, its modes are its own, no run/ or var/mail.
  assert.ok(lstatSync(join(root, "dev/null")).isFile());
  assert.equal(lstatSync(join(root, "etc")).mode & 0o7777, 0o755);
  assert.equal(lstatSync(join(root, "bin/sh")).mode & 0o7777, 0o755);
  assert.throws(() => lstatSync(join(root, "run")));
  assert.throws(() => lstatSync(join(root, "var/mail")));
});
