import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { isKilnError } from "../core/errors.js";
import {
  checkHostNetwork,
  type HostNetworkPaths,
  parseNetworkOption,
  qemuNetdev,
  tapNameFor,
} from "./network.js";

test("--network parses MODE[:DEVICE] and refuses junk with the value seen", () => {
  assert.deepEqual(parseNetworkOption("user"), { network: "user" });
  assert.deepEqual(parseNetworkOption("tap"), { network: "tap" });
  assert.deepEqual(parseNetworkOption("tap:tap7"), { network: "tap", networkDevice: "tap7" });
  assert.deepEqual(parseNetworkOption("bridge:virbr0"), { network: "bridge", networkDevice: "virbr0" });
  for (const bad of ["wifi", "user:eth0", "tap:a/b", "tap:way-too-long-a-name", "tap:x:y"]) {
    assert.throws(
      () => parseNetworkOption(bad),
      (e) => isKilnError(e, "USAGE") && e.message.includes(`"`),
      bad,
    );
  }
});

test("QEMU -netdev per mode: user with hostfwd, tap without ifup scripts, bridge through the helper", () => {
  const base = { name: "web_1", networkDevice: undefined, ports: [] };
  assert.equal(
    qemuNetdev({
      ...base,
      network: "user",
      ports: [{ hostIp: "127.0.0.1", hostPort: 8080, guestPort: 80, protocol: "tcp" }],
    }),
    "user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:8080-:80",
  );
  // Only when asked may the guest connect out (and so reach the host's loopback through 10.0.2.2).
  assert.equal(qemuNetdev({ ...base, network: "user", allowHostLoopback: true }), "user,id=net0");
  assert.equal(
    qemuNetdev({ ...base, network: "tap" }),
    "tap,id=net0,ifname=kt-web_1,script=no,downscript=no",
  );
  assert.equal(
    qemuNetdev({ ...base, network: "bridge", networkDevice: "virbr0" }),
    "bridge,id=net0,br=virbr0,helper=/usr/lib/qemu/qemu-bridge-helper",
  );
  assert.equal(qemuNetdev({ ...base, network: "none" }), undefined);
  assert.equal(tapNameFor("a_very_long_machine_name"), "kt-a_very_long_");
});

/** A scratch stand-in for /sys/class/net, /dev/net/tun and the bridge helper's files. */
function fakeHost(t: import("node:test").TestContext, uid: number): HostNetworkPaths {
  const root = mkdtempSync(join(tmpdir(), "kiln-net-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, "net"));
  writeFileSync(join(root, "tun"), "");
  writeFileSync(join(root, "helper"), "");
  return {
    sysClassNet: join(root, "net"),
    tunDevice: join(root, "tun"),
    bridgeHelper: join(root, "helper"),
    bridgeAcl: join(root, "bridge.conf"),
    uid,
  };
}

function addDevice(host: HostNetworkPaths, name: string, files: Record<string, string>): void {
  mkdirSync(join(host.sysClassNet, name, "bridge"), { recursive: true });
  for (const [f, v] of Object.entries(files)) writeFileSync(join(host.sysClassNet, name, f), v);
}

const privileges = (hint: RegExp, message: RegExp) => (e: unknown) =>
  isKilnError(e, "NETWORK_PRIVILEGES") && message.test(e.message) && hint.test(e.hint ?? "");

test("tap: a missing device is named with the one-time root command to create it", (t) => {
  const host = fakeHost(t, 1000);
  assert.throws(
    () => checkHostNetwork({ name: "web", network: "tap" }, host),
    privileges(/ip tuntap add dev kt-web mode tap user 1000/, /tap device kt-web, which does not exist/),
  );
});

test("tap: a device owned by someone else is refused for a normal user, accepted for its owner", (t) => {
  const host = fakeHost(t, 1000);
  addDevice(host, "tap0", { tun_flags: "0x1002\n", owner: "1001\n" });
  const spec = { name: "web", network: "tap" as const, networkDevice: "tap0" };
  assert.throws(() => checkHostNetwork(spec, host), privileges(/user 1000/, /belongs to uid 1001/));
  checkHostNetwork(spec, { ...host, uid: 1001 });
  addDevice(host, "eth9", { tun_flags: "0x1001\n" }); // a tun (layer 3) device is not a tap
  assert.throws(
    () => checkHostNetwork({ ...spec, networkDevice: "eth9" }, { ...host, uid: 1001 }),
    privileges(/tuntap/, /eth9 is not a tap device/),
  );
});

test("bridge: missing bridge, non-setuid helper, and an ACL that does not allow it are each explained", (t) => {
  const host = fakeHost(t, 1000);
  const spec = { name: "web", network: "bridge" as const };
  assert.throws(() => checkHostNetwork(spec, host), privileges(/ip link add br0 type bridge/, /bridge br0/));
  addDevice(host, "br0", {});
  chmodSync(host.bridgeHelper, 0o755);
  assert.throws(() => checkHostNetwork(spec, host), privileges(/chmod u\+s/, /not setuid root/));
  chmodSync(host.bridgeHelper, 0o4755);
  assert.throws(() => checkHostNetwork(spec, host), privileges(/allow br0/, /bridge\.conf is missing/));
  writeFileSync(host.bridgeAcl, "allow virbr0\n");
  assert.throws(
    () => checkHostNetwork(spec, host),
    privileges(/echo 'allow br0'/, /does not allow the bridge br0/),
  );
  writeFileSync(host.bridgeAcl, "allow virbr0\nallow br0\n");
  checkHostNetwork(spec, host);
});
