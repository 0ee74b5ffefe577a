/**
 * Issue 9 item 2: paths holding `,`, `=`, `:` and newlines reach QEMU as the
 * files they name, never as extra options. Real QEMU (TCG) is asked to open
 * them; what it opened is read from /proc/PID/fd.
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { noQemu } from "../helpers/guests.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { qemuPidsUnder, waitForLog } from "../helpers/machines.js";
import { buildMultibootStandin } from "./guests.js";

test("a root disk and a volume whose paths look like QEMU options open exactly those paths", {
  skip: noQemu(),
}, async (t) => {
  const dir = scratchDir(t);
  const kernel = buildMultibootStandin(dir);
  // The store itself lives under an awkward name: sockets, logs and the pidfile go through QEMU's parser too.
  const home = join(dir, "h,id=x=:\ny");
  mkdirSync(home);
  const env = { KILN_HOME: home };
  // The decoys an unescaped option string would open instead.
  writeFileSync(join(dir, "other.img"), Buffer.alloc(1 << 20));
  mkdirSync(join(dir, "secret"));
  // `r,file=<dir>/other.img` (a directory `r,file=` holding `other.img`).
  const rootDir = join(dir, "r,file=");
  mkdirSync(join(rootDir, dir), { recursive: true });
  const rootfs = join(rootDir, dir, "other.img");
  writeFileSync(rootfs, Buffer.alloc(1 << 20));
  const volume = join(dir, "vol,path=", dir.slice(1), "secret");
  mkdirSync(volume, { recursive: true });
  const r = await runKiln(
    ["run", "-W", "-d", "-n", "m", kernel, "--rootfs", rootfs, "-v", `${volume}:/mnt`, "-a", "hang"],
    { env },
  );
  assert.equal(r.code, 0, r.stderr);
  await waitForLog(home, "m", /still-waiting/);
  const [pid] = qemuPidsUnder(home);
  assert.ok(pid, "QEMU is running");
  const open = readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return "";
    }
  });
  assert.ok(open.includes(rootfs), `root disk not opened: ${JSON.stringify(open)}`);
  assert.ok(open.includes(volume), `volume not opened: ${JSON.stringify(open)}`);
  assert.ok(!open.includes(join(dir, "other.img")), "the decoy disk was opened");
  assert.ok(!open.includes(join(dir, "secret")), "the decoy directory was shared");
  const rm = await runKiln(["rm", "-f", "m"], { env });
  assert.equal(rm.code, 0, rm.stderr);
});
