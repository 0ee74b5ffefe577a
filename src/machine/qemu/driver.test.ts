import assert from "node:assert/strict";
import { test } from "node:test";
import { qemuGuestExit } from "./driver.js";

test("QEMU exit statuses map to the guest's exit", () => {
  assert.deepEqual(qemuGuestExit({ exitCode: 0, signal: null }, "[ 2.4] reboot: Power down"), {
    exitCode: 0,
    reason: "powered off",
  });
  // isa-debug-exit: QEMU exits with (code << 1) | 1.
  assert.deepEqual(qemuGuestExit({ exitCode: 7, signal: null }, ""), {
    exitCode: 3,
    reason: "exited with code 3",
  });
  assert.equal(qemuGuestExit({ exitCode: 137, signal: null }, "").reason, "QEMU was killed by signal 9");
  // Unikraft's crash (42) and fallback halt (41) codes.
  assert.deepEqual(qemuGuestExit({ exitCode: 85, signal: null }, ""), {
    exitCode: 1,
    reason: "Unikraft crashed (isa-debug-exit 42)",
  });
  assert.deepEqual(qemuGuestExit({ exitCode: 83, signal: null }, ""), {
    exitCode: 0,
    reason: "halted (isa-debug-exit 41)",
  });
});

test("a Linux panic in the console is a failure whatever QEMU's status", () => {
  const r = qemuGuestExit(
    { exitCode: 0, signal: null },
    "Kernel panic - not syncing: VFS: Unable to mount root fs",
  );
  assert.equal(r.exitCode, 1);
  assert.match(r.reason, /kernel panic: VFS: Unable to mount root fs/);
});
