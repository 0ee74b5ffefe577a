/**
 * `--vsock CID`: the CID rule (vsock(7) reserves 0-2 and 2^32 - 1), QEMU's
 * refusal without `/dev/vhost-vsock`, and the vhost-vsock device QEMU gets
 * when the host has it (pci on pc/q35, the virtio-mmio device on microvm).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { machineSpec } from "../../test/helpers/specs.js";
import { isKilnError } from "../core/errors.js";
import type { MachineSpec } from "./driver.js";
import { buildQemuArgv } from "./qemu/argv.js";
import { checkQemuVsock, parseVsockCid } from "./vsock.js";

const spec = (over: Partial<MachineSpec> = {}): MachineSpec =>
  machineSpec({ kernel: "/k/vmlinux", kernelKind: "elf", ...over });

test("--vsock accepts CIDs 3 to 2^32 - 2 and refuses the reserved ones, stating the rule and the value", () => {
  assert.equal(parseVsockCid("3"), 3);
  assert.equal(parseVsockCid("4294967294"), 4294967294);
  for (const bad of ["0", "1", "2", "4294967295", "4294967296", "-3", "3.5", "abc", "", "0x10"]) {
    assert.throws(
      () => parseVsockCid(bad),
      (e: unknown) => {
        assert.ok(isKilnError(e, "USAGE"), `${bad}: ${String(e)}`);
        assert.equal(e.exitCode, 2);
        assert.match(
          e.message,
          /^--vsock CID must be a whole number from 3 to 4294967294 \(0-2 are reserved/,
        );
        assert.ok(e.message.endsWith(`; got "${bad}"`), e.message);
        return true;
      },
    );
  }
});

test("QEMU without /dev/vhost-vsock: VSOCK_UNAVAILABLE names the module and the Firecracker alternative", () => {
  checkQemuVsock(true);
  for (const attempt of [
    () => checkQemuVsock(false),
    () =>
      buildQemuArgv(spec({ vsock: { guestCid: 3 } }), { accel: "tcg", instanceDir: "/i", vhostVsock: false }),
  ]) {
    assert.throws(attempt, (e: unknown) => {
      assert.ok(isKilnError(e, "VSOCK_UNAVAILABLE"), String(e));
      assert.match(e.message, /needs the host's vhost-vsock device \/dev\/vhost-vsock, which does not exist/);
      assert.match(e.hint ?? "", /modprobe vhost_vsock/);
      assert.match(e.hint ?? "", /--vmm firecracker, which provides vsock through a Unix socket/);
      return true;
    });
  }
});

test("QEMU with /dev/vhost-vsock: vhost-vsock-pci on pc, vhost-vsock-device on microvm, nothing without --vsock", () => {
  const host = { accel: "tcg" as const, instanceDir: "/i", vhostVsock: true };
  const devices = (argv: string[]) => argv.filter((_, i) => argv[i - 1] === "-device");
  const vs = spec({ vsock: { guestCid: 7 } });
  assert.deepEqual(
    devices(buildQemuArgv(vs, { ...host, machine: "pc" })).filter((d) => d.includes("vsock")),
    ["vhost-vsock-pci,guest-cid=7"],
  );
  assert.deepEqual(
    devices(buildQemuArgv(vs, { ...host, machine: "microvm" })).filter((d) => d.includes("vsock")),
    ["vhost-vsock-device,guest-cid=7"],
  );
  assert.equal(buildQemuArgv(spec(), host).join(" ").includes("vsock"), false);
});
