import assert from "node:assert/strict";
import { test } from "node:test";
import { isKilnError } from "../core/errors.js";
import { planGuestSetup } from "./guest-setup.js";

const facts = (initSystem: Parameters<typeof planGuestSetup>[0]["initSystem"], inittab?: string) => ({
  initSystem,
  inittab,
  busybox: "/bin/busybox",
  exists: new Set<string>(),
});

test("systemd: serial-getty@ttyS0 is enabled", () => {
  const ops = planGuestSetup(facts("systemd"), { hostname: "vm1" });
  assert.ok(
    ops.some(
      (o) =>
        o.op === "symlink" &&
        o.path === "/etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service" &&
        o.target === "/lib/systemd/system/serial-getty@.service",
    ),
  );
  assert.ok(ops.some((o) => o.op === "write" && o.path === "/etc/hostname" && o.content === "vm1\n"));
});

test("OpenRC: agetty.ttyS0 in default, devfs/procfs/sysfs in boot (Firecracker's rootfs guide)", () => {
  const links = planGuestSetup(facts("openrc"), {})
    .filter((o) => o.op === "symlink")
    .map((o) => (o.op === "symlink" ? `${o.path} -> ${o.target}` : ""));
  assert.deepEqual(links, [
    "/etc/init.d/agetty.ttyS0 -> agetty",
    "/etc/runlevels/default/agetty.ttyS0 -> /etc/init.d/agetty.ttyS0",
    "/etc/runlevels/boot/devfs -> /etc/init.d/devfs",
    "/etc/runlevels/boot/procfs -> /etc/init.d/procfs",
    "/etc/runlevels/boot/sysfs -> /etc/init.d/sysfs",
  ]);
});

test("busybox with an existing inittab: a getty line is appended once", () => {
  const add = planGuestSetup(facts("busybox", "::sysinit:/sbin/openrc sysinit\n"), {});
  assert.ok(
    add.some(
      (o) => o.op === "append" && o.content === "ttyS0::respawn:/bin/busybox getty -L 115200 ttyS0 vt100\n",
    ),
  );
  const none = planGuestSetup(facts("busybox", "ttyS0::respawn:/sbin/getty -L ttyS0 115200 vt100\n"), {});
  assert.ok(!none.some((o) => o.op === "append"));
});

test("sysvinit: Debian's commented-out serial getty does not count; an active one does", () => {
  const debian = "id:2:initdefault:\n#T0:23:respawn:/sbin/getty -L ttyS0 9600 vt100\n";
  const add = planGuestSetup(facts("sysvinit", debian), {});
  assert.ok(
    add.some((o) => o.op === "append" && o.content === "T0:2345:respawn:/sbin/getty -L ttyS0 115200 vt100\n"),
  );
  const active = planGuestSetup(facts("sysvinit", "T0:23:respawn:/sbin/getty -L ttyS0 9600 vt100\n"), {});
  assert.ok(!active.some((o) => o.op === "append"));
});

test("passwordless root: root's shadow field is emptied, other lines kept; no shadow is an error", () => {
  const shadow = "root:*:20790:0:99999:7:::\ndaemon:*:20790:0:99999:7:::\n";
  const ops = planGuestSetup({ ...facts("sysvinit", ""), shadow }, { passwordlessRoot: true });
  const w = ops.find((o) => o.op === "write" && o.path === "/etc/shadow");
  assert.deepEqual(w, {
    op: "write",
    path: "/etc/shadow",
    content: "root::20790:0:99999:7:::\ndaemon:*:20790:0:99999:7:::\n",
    mode: 0o640,
  });
  assert.ok(!planGuestSetup({ ...facts("sysvinit", ""), shadow }, {}).some((o) => o.path === "/etc/shadow"));
  assert.throws(
    () => planGuestSetup(facts("busybox"), { passwordlessRoot: true }),
    (e) => isKilnError(e, "ROOTFS_NO_SHADOW"),
  );
});

test("bad hostname and bad SSH key are refused", () => {
  assert.throws(
    () => planGuestSetup(facts("busybox"), { hostname: "bad_name!" }),
    (e) => isKilnError(e, "ROOTFS_BAD_HOSTNAME"),
  );
  assert.throws(
    () => planGuestSetup(facts("busybox"), { sshPublicKey: "-----BEGIN OPENSSH PRIVATE KEY-----" }),
    (e) => isKilnError(e, "ROOTFS_BAD_SSH_KEY"),
  );
});
