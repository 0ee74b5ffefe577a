import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { needsRdseed, qemuErrorLine, qemuGuestExit } from "./driver.js";

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
    reason: "Unikraft crashed, or its application returned non-zero (isa-debug-exit 42)",
  });
  // Unikraft ≤ 0.15 ends a non-zero main() as a crash; its info message names the status.
  assert.deepEqual(
    qemuGuestExit(
      { exitCode: 85, signal: null },
      "[    0.2] Info: [libukboot] <boot.c @  419> main returned 3, halting system\n",
    ),
    {
      exitCode: 3,
      reason: "the application returned 3 (Unikraft ends a non-zero main as a crash, isa-debug-exit 42)",
    },
  );
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

test("QEMU's own error (vmm.log) explains a failure status; isa-debug-exit only when QEMU had the device", () => {
  const said =
    "qemu-system-x86_64: Invalid SMP CPUs 1000. The max CPUs supported by machine 'pc-i440fx-7.2' is 255";
  const linuxArgv = ["qemu-system-x86_64", "-machine", "pc", "-kernel", "vmlinuz"];
  const ukArgv = [...linuxArgv, "-device", "isa-debug-exit,iobase=0x501,iosize=0x02"];
  const warn = "qemu-system-x86_64: warning: host doesn't support requested feature";
  for (const argv of [linuxArgv, ukArgv]) {
    assert.deepEqual(qemuGuestExit({ exitCode: 1, signal: null }, "", { logTail: [said, warn], argv }), {
      exitCode: 1,
      reason:
        "QEMU failed (status 1): Invalid SMP CPUs 1000. The max CPUs supported by machine 'pc-i440fx-7.2' is 255",
    });
  }
  // Status 1 with nothing from QEMU: only a guest with the device can have written 0 to it.
  assert.equal(
    qemuGuestExit({ exitCode: 1, signal: null }, "", { logTail: [warn], argv: linuxArgv }).reason,
    "QEMU exited with status 1",
  );
  assert.match(
    qemuGuestExit({ exitCode: 1, signal: null }, "", { logTail: [], argv: ukArgv }).reason,
    /isa-debug-exit/,
  );
  // A guest's own exit code wins over QEMU's chatter.
  assert.deepEqual(
    qemuGuestExit({ exitCode: 7, signal: null }, "", { logTail: [warn, said], argv: ukArgv }),
    {
      exitCode: 3,
      reason: "exited with code 3",
    },
  );
  assert.equal(qemuErrorLine([said, warn]), said.replace("qemu-system-x86_64: ", ""));
  assert.equal(qemuErrorLine([warn]), undefined);
});

test("needsRdseed reads the target's configuration where kiln build keeps it, else the image", async (t) => {
  const project = mkdtempSync(join(tmpdir(), "kiln-rdseed-"));
  t.after(() => rmSync(project, { recursive: true, force: true }));
  mkdirSync(join(project, ".unikraft/build"), { recursive: true });
  const kernel = join(project, ".unikraft/build/app_qemu-x86_64");
  // The image names the library (as a real one may, in a string table) ...
  writeFileSync(kernel, "\x7fELF ... libukrandom ...");
  assert.equal(await needsRdseed(kernel), true);
  // ... but the target's own configuration (`<project>/.config.<target>`) says it is off.
  writeFileSync(join(project, ".config.app_qemu-x86_64"), "# CONFIG_LIBUKRANDOM is not set\n");
  assert.equal(await needsRdseed(kernel), false);
  writeFileSync(join(project, ".config.app_qemu-x86_64"), "CONFIG_LIBUKRANDOM=y\n");
  assert.equal(await needsRdseed(kernel), true);
});
