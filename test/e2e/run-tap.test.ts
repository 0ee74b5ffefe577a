/**
 * End-to-end: `kiln run --network tap:DEV` attaches a Linux guest to an
 * existing tap device. The test makes its own network namespace (so no
 * traffic leaves it), creates the tap there as root would once, gives the host
 * side 10.0.2.2/24 (the address the example guest's init routes through), and
 * runs Kiln inside the namespace: the guest pings the host over the tap.
 * Needs root for `ip netns`/`ip tuntap` (the setup, not Kiln); skipped otherwise.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { test } from "node:test";
import { which } from "../../src/core/exec.js";
import { debianKernel, noBusybox, prepareLinuxRootfs } from "../helpers/guests.js";
import { KILN_FROM_SOURCE, scratchDir } from "../helpers/kiln.js";

const { kernel, skip: noKernel } = debianKernel();
const skip =
  noKernel ??
  noBusybox() ??
  (process.getuid?.() !== 0 ? "creating a network namespace and a tap device needs root" : undefined) ??
  (which("ip") ? undefined : "ip (iproute2) missing");

const NS = `kiln-tap-${process.pid}`;
const TAP = "kt-e2e";

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: "pipe" });
}

test("a guest on --network tap:DEV reaches the host side of the tap", { skip }, async (t) => {
  const started = Date.now();
  ip("netns", "add", NS);
  t.after(() => ip("netns", "del", NS));
  ip("-n", NS, "link", "set", "lo", "up");
  ip("-n", NS, "tuntap", "add", "dev", TAP, "mode", "tap");
  ip("-n", NS, "addr", "add", "10.0.2.2/24", "dev", TAP);
  ip("-n", NS, "link", "set", TAP, "up");
  const dir = scratchDir(t);
  const rootfs = prepareLinuxRootfs(`${dir}/rootfs`, kernel!);
  const argv = [
    "ip",
    "netns",
    "exec",
    NS,
    ...KILN_FROM_SOURCE,
    "run",
    "--rm",
    "-W",
    "--network",
    `tap:${TAP}`,
    kernel!,
    "--initrd",
    rootfs,
    "-a",
    "quiet",
    "--wait-for",
    "TAP-PING-(OK|FAILED)",
    "--timeout",
    "150",
    "--",
    "sh",
    "-c",
    "ping -c 1 -W 10 10.0.2.2 && echo TAP-PING-OK || echo TAP-PING-FAILED",
  ];
  const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      env: { ...process.env, NO_COLOR: "1", KILN_HOME: `${dir}/home` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    child.stdout.on("data", (c: Buffer) => {
      text += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      text += c.toString();
    });
    child.on("close", (code) => resolve({ code, text }));
  });
  t.diagnostic(`tap boot and ping took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  assert.equal(out.code, 0, out.text.slice(-3000));
  assert.match(out.text, /TAP-PING-OK/, out.text.slice(-3000));
  assert.doesNotMatch(out.text, /TAP-PING-FAILED/);
});
