/**
 * The library façade on real QEMU (TCG): `pack` a busybox tree, `boot` it
 * with `waitFor` and `timeoutMs`, get the console, exit and duration back;
 * the run leaves nothing in the user's store. `buildRootfs` builds ext4.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { boot, buildRootfs, isKilnError, pack } from "../src/index.js";
import { debianKernel, noBusybox, prepareLinuxRootfs } from "./helpers/guests.js";
import { runKiln, scratchDir } from "./helpers/kiln.js";
import { qemuPidsUnder } from "./helpers/machines.js";

const { kernel, skip: noKernel } = debianKernel();
const skip = noKernel ?? noBusybox();

test("pack + boot: console, exit, duration; nothing left in the store", {
  skip,
  timeout: 300_000,
}, async (t) => {
  const dir = scratchDir(t);
  const home = join(dir, "home");
  const tree = prepareLinuxRootfs(join(dir, "rootfs"), kernel!);
  const packed = await pack(tree, join(dir, "initrd.cpio"));
  assert.ok(packed.entries > 0);
  const r = await boot({
    kernel: kernel!,
    initrd: join(dir, "initrd.cpio"),
    memMiB: 256,
    waitFor: /hello from Linux \S+/,
    timeoutMs: 150_000,
    accel: "tcg",
    env: { ...process.env, KILN_HOME: home },
  });
  t.diagnostic(`boot took ${r.durationMs} ms`);
  assert.equal(r.exitCode, 0);
  assert.match(r.matched ?? "", /^hello from Linux \S+/);
  assert.match(r.console, /Linux version/);
  assert.ok(r.durationMs > 0);
  // Ephemeral: not in the user's store, no QEMU left.
  const ps = await runKiln(["ps", "-a", "--json"], { env: { KILN_HOME: home } });
  assert.deepEqual(JSON.parse(ps.stdout), []);
  assert.deepEqual(qemuPidsUnder(dir), []);
  // A guest that powers off: its own exit.
  const off = await boot({
    kernel: kernel!,
    initrd: tree,
    appArgs: ["sh", "-c", "echo bye"],
    accel: "tcg",
    timeoutMs: 150_000,
  });
  assert.equal(off.exitCode, 0);
  assert.equal(off.reason, "powered off");
  assert.match(off.console, /^bye\r?$/m);
  await assert.rejects(
    boot({ kernel: kernel!, initrd: tree, appArgs: ["sleep", "600"], accel: "tcg", timeoutMs: 1000 }),
    (e) => isKilnError(e, "RUN_TIMEOUT"),
  );
  assert.deepEqual(qemuPidsUnder(dir), []);
});

test("buildRootfs(src, output, opts): an ext4 image from a directory", async (t) => {
  const dir = scratchDir(t);
  const r = await buildRootfs(join(process.cwd(), "examples/helloworld"), join(dir, "x.ext4"), {
    sizeBytes: 8 * 1024 * 1024,
  });
  assert.equal(r.format, "ext4");
  assert.equal(r.sizeBytes, 8 * 1024 * 1024);
  assert.ok(existsSync(join(dir, "x.ext4")));
});
