/**
 * `kiln kernel check` from the command line: Debian's stock kernel (its
 * config-VER beside /boot/vmlinuz-VER) is flagged for Firecracker and passes
 * for QEMU pc; Firecracker's own x86_64 config passes for Firecracker; the
 * JSON form lists what is missing.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runKiln, SHARED_DATA } from "../helpers/kiln.js";

const stock = existsSync("/boot")
  ? readdirSync("/boot").find(
      (n) => n.startsWith("vmlinuz-") && existsSync(join("/boot", n.replace("vmlinuz-", "config-"))),
    )
  : undefined;

test("Debian's stock kernel is flagged for Firecracker (virtio as modules) and passes for QEMU pc", {
  skip: stock ? false : "no /boot/vmlinuz-* with its config-* (apt-get install linux-image-amd64)",
}, async () => {
  const kernel = join("/boot", stock!);
  const fc = await runKiln(["kernel", "check", kernel, "--for", "firecracker"]);
  assert.equal(fc.code, 1, fc.stdout + fc.stderr);
  assert.match(fc.stdout, /config-.*: \d+ requirements of firecracker \(x86_64\) not met:/);
  assert.match(
    fc.stdout,
    /CONFIG_VIRTIO_MMIO: needs y, is CONFIG_VIRTIO_MMIO=m: microVM devices are virtio over MMIO/,
  );
  assert.match(fc.stdout, /CONFIG_VIRTIO_BLK: needs y, is CONFIG_VIRTIO_BLK=m/);
  const json = await runKiln(["kernel", "check", kernel, "--for", "qemu-microvm", "--json"]);
  assert.equal(json.code, 1);
  const parsed = JSON.parse(json.stdout) as { ok: boolean; missing: { options: string[] }[] };
  assert.equal(parsed.ok, false);
  assert.ok(parsed.missing.some((m) => m.options.includes("VIRTIO_MMIO")));
  const pc = await runKiln(["kernel", "check", kernel, "--for", "qemu-pc"]);
  assert.equal(pc.code, 0, pc.stdout);
  assert.match(pc.stdout, /has every option qemu-pc needs \(x86_64\)/);
});

test("Firecracker's own 6.1 x86_64 guest config passes the Firecracker check", async () => {
  const r = await runKiln([
    "kernel",
    "check",
    join(SHARED_DATA, "firecracker/guest_configs/microvm-kernel-ci-x86_64-6.1.config"),
    "--for",
    "firecracker",
  ]);
  assert.equal(r.code, 0, r.stdout);
});
