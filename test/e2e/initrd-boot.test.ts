/**
 * Boot: Debian's stock kernel (linux-image-amd64) under qemu-system-x86_64
 * (TCG) with an initrd packed by Kiln's `packCpio` from a directory whose
 * init is busybox (busybox-static). `/dev/console` comes from a device spec,
 * as an unprivileged user would provide it. The marker is computed by the
 * guest's shell, so it can only appear if /init really ran.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { linkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { exec } from "../../src/core/exec.js";
import { packCpio } from "../../src/image/cpio/index.js";
import { busyboxTree, debianKernel, noBusybox, noQemu } from "../helpers/guests.js";
import { scratchDir } from "../helpers/kiln.js";

const { kernel, skip: noKernel } = debianKernel();
const skip = noKernel ?? noQemu() ?? noBusybox();

function tokenTree(root: string, token: string): void {
  busyboxTree(
    root,
    "init",
    [
      "#!/bin/sh",
      "export PATH=/bin",
      "mount -t proc proc /proc",
      // Arithmetic and file reads by the guest: the script text never contains the marker.
      'echo "KILN-INITRD-$((6 * 7))-$(cat /data/token)-$(cat /etc/token-link) kernel $(uname -r)"',
      "poweroff -f",
      "",
    ],
    { dirs: ["bin", "proc", "sys", "data", "etc"], applets: ["sh", "mount", "poweroff", "uname", "cat"] },
  );
  // The token lives only in a hard-linked file: the kernel must get the data through both names.
  writeFileSync(join(root, "data/token"), token);
  linkSync(join(root, "data/token"), join(root, "etc/token-link"));
}

for (const gzip of [false, true]) {
  test(`Debian kernel boots a Kiln initrd (${gzip ? "gzip" : "plain newc"}) and runs its busybox /init`, {
    skip,
  }, async (t) => {
    const dir = scratchDir(t);
    const root = join(dir, "root");
    const token = randomBytes(6).toString("hex");
    tokenTree(root, token);
    const spec = join(dir, "devices");
    writeFileSync(spec, "/dev/console c 5 1 0600 0 0\n/dev/null c 1 3 0666 0 0\n");
    const initrd = join(dir, gzip ? "initrd.cpio.gz" : "initrd.cpio");
    const packed = await packCpio({ sourceDir: root, output: initrd, gzip, deviceSpec: spec });
    t.diagnostic(`initrd: ${packed.entries} entries, ${packed.sizeBytes} bytes`);

    const started = Date.now();
    const argv = ["qemu-system-x86_64", "-M", "pc", "-accel", "tcg", "-m", "256", "-nographic", "-no-reboot"];
    argv.push("-kernel", kernel!, "-initrd", initrd, "-append", "console=ttyS0 panic=-1 quiet");
    const r = await exec(argv, { timeoutMs: 120_000, allowFailure: true });
    t.diagnostic(`boot to poweroff took ${((Date.now() - started) / 1000).toFixed(1)} s under TCG`);
    assert.match(
      r.stdout,
      new RegExp(`KILN-INITRD-42-${token}-${token} kernel \\d+\\.`),
      `marker missing; serial tail:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-1000)}`,
    );
    assert.equal(r.exitCode, 0, "QEMU exits cleanly after poweroff -f");
  });
}
