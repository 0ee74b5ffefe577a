/**
 * `--guest-setup` into ext4 from a directory writes the set-up's files into
 * the image with debugfs, leaving the source in place (no staging copy).
 * The same build through the staging copy (forced by a `--device-spec`
 * line that changes nothing) must give the guest the same files, modes and
 * owners; both images e2fsck clean; the source unchanged.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { installBusybox } from "../helpers/guests.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { debugfs, e2fsckClean, ext4Ls } from "./rootfs-helpers.js";

/** The guest's view of the paths guest set-up touches: listing entries and file contents. */
function guestView(image: string): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const dir of ["/", "/etc", "/root", "/root/.ssh", "/sbin"]) {
    const ls = ext4Ls(image, dir);
    ls.delete(".");
    ls.delete("..");
    view[`ls ${dir}`] = Object.fromEntries([...ls].sort(([a], [b]) => (a < b ? -1 : 1)));
  }
  for (const f of [
    "/etc/inittab",
    "/etc/hostname",
    "/etc/hosts",
    "/etc/fstab",
    "/etc/shadow",
    "/root/.ssh/authorized_keys",
  ])
    view[f] = debugfs(image, `cat ${f}`);
  view["/sbin/init"] = /Fast link dest: "(.*)"/.exec(debugfs(image, "stat /sbin/init"))?.[1];
  return view;
}

test("--guest-setup → ext4 without a staging copy matches the staged build", async (t) => {
  const dir = scratchDir(t);
  const root = join(dir, "root");
  installBusybox(root);
  mkdirSync(join(root, "etc"));
  mkdirSync(join(root, "sbin"));
  // An inittab without a serial getty (appended to), a hostname and hosts that exist (replaced, kept).
  const inittab = "::sysinit:/etc/init.d/rcS\n::ctrlaltdel:/bin/busybox reboot\n";
  writeFileSync(join(root, "etc/inittab"), inittab);
  writeFileSync(join(root, "etc/hostname"), "old\n");
  writeFileSync(join(root, "etc/hosts"), "127.0.0.1 localhost\n");
  chmodSync(join(root, "etc/hosts"), 0o640);
  // A locked root, as Debian's (`*`): --passwordless-root empties that field only.
  const shadow = "root:*:20790:0:99999:7:::\nnobody:*:20790:0:99999:7:::\n";
  writeFileSync(join(root, "etc/shadow"), shadow);
  chmodSync(join(root, "etc/shadow"), 0o600);
  symlinkSync("/bin/busybox", join(root, "sbin/init"));
  mkdirSync(join(root, "tmp"), { mode: 0o755 });
  const key = join(dir, "id.pub");
  writeFileSync(key, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKilnTestKeyOnly test@kiln\n");
  const spec = join(dir, "nothing.spec");
  writeFileSync(spec, "/bin d 0 0 0755 0 0\n");
  const before = readdirSync(root, { recursive: true }).sort();

  const args = (out: string) => [
    ...["rootfs", "build", root, "-o", out],
    ...["--hostname", "vm1", "--ssh-key", key, "--passwordless-root"],
  ];
  const inPlace = join(dir, "inplace.ext4");
  const staged = join(dir, "staged.ext4");
  const a = await runKiln([...args(inPlace), "--json"]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(JSON.parse(a.stdout).initSystem, "busybox");
  const b = await runKiln([...args(staged), "--device-spec", spec]);
  assert.equal(b.code, 0, b.stderr);
  for (const img of [inPlace, staged]) assert.equal(e2fsckClean(img).code, 0, e2fsckClean(img).output);

  const got = guestView(inPlace);
  assert.deepEqual(got, guestView(staged));
  // What the guest gets, spelled out.
  assert.equal(got["/etc/hostname"], "vm1\n");
  assert.equal(got["/etc/hosts"], "127.0.0.1 localhost\n");
  assert.equal(got["/etc/shadow"], "root::20790:0:99999:7:::\nnobody:*:20790:0:99999:7:::\n");
  assert.deepEqual((got["ls /etc"] as Record<string, unknown>).shadow, { mode: "100640", uid: 0, gid: 0 });
  assert.match(String(got["/etc/inittab"]), /^::sysinit:\/etc\/init.d\/rcS\n::ctrlaltdel:/);
  assert.match(String(got["/etc/inittab"]), /\nttyS0::respawn:\/bin\/busybox getty -L 115200 ttyS0 vt100\n$/);
  assert.deepEqual((got["ls /"] as Record<string, unknown>).tmp, { mode: "41777", uid: 0, gid: 0 });
  assert.deepEqual((got["ls /"] as Record<string, unknown>).root, { mode: "40700", uid: 0, gid: 0 });
  assert.deepEqual((got["ls /etc"] as Record<string, unknown>).hosts, { mode: "100640", uid: 0, gid: 0 });
  assert.deepEqual((got["ls /root/.ssh"] as Record<string, unknown>).authorized_keys, {
    mode: "100600",
    uid: 0,
    gid: 0,
  });
  // The source is untouched.
  assert.deepEqual(readdirSync(root, { recursive: true }).sort(), before);
  assert.equal(readFileSync(join(root, "etc/inittab"), "utf8"), inittab);
  assert.equal(readFileSync(join(root, "etc/hostname"), "utf8"), "old\n");
  assert.equal(readFileSync(join(root, "etc/shadow"), "utf8"), shadow);
});
