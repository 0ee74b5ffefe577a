import assert from "node:assert/strict";
import { test } from "node:test";
import { machineSpec } from "../../test/helpers/specs.js";
import { isKilnError } from "../core/errors.js";
import { linuxIpArg, parseGuestIp, parseMac, unikraftIpArg } from "./guest-address.js";
import { qemuNetdev } from "./network.js";
import { buildQemuArgv, kernelCommandLine } from "./qemu/argv.js";

test("--ip on the user network: slirp's gateway and DNS by default; KraftKit's netdev.ip= and Linux's ip=", () => {
  const ip = parseGuestIp("10.0.2.42", "user");
  assert.deepEqual(ip, { address: "10.0.2.42", prefixLength: 24, gateway: "10.0.2.2", dns: ["10.0.2.3"] });
  assert.equal(unikraftIpArg(ip), "netdev.ip=10.0.2.42/24:10.0.2.2:10.0.2.3:::");
  assert.equal(linuxIpArg(ip), "ip=10.0.2.42::10.0.2.2:255.255.255.0::eth0:off:10.0.2.3");
  const tap = parseGuestIp("192.168.7.2/28:192.168.7.1:1.1.1.1:9.9.9.9", "tap");
  assert.equal(unikraftIpArg(tap), "netdev.ip=192.168.7.2/28:192.168.7.1:1.1.1.1:9.9.9.9::");
  assert.equal(linuxIpArg(tap), "ip=192.168.7.2::192.168.7.1:255.255.255.240::eth0:off:1.1.1.1:9.9.9.9");
  assert.equal(linuxIpArg(parseGuestIp("192.168.7.2", "bridge")), "ip=192.168.7.2:::255.255.255.0::eth0:off");
});

test("--ip and --mac refusals state the rule and the value", () => {
  const usage = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e: unknown) => isKilnError(e, "USAGE") && re.test(e.message));
  usage(() => parseGuestIp("10.0.2.2", "user"), /must be in 10\.0\.2\.0\/24, from \.4 to \.254/);
  usage(() => parseGuestIp("10.0.2.9/16", "user"), /must be in 10\.0\.2\.0\/24/);
  usage(
    () => parseGuestIp("10.0.2.9/33", "tap"),
    /prefix length "\/33" in --ip 10\.0\.2\.9\/33 is not 1 to 30/,
  );
  usage(
    () => parseGuestIp("10.0.2.9:gw", "tap"),
    /gateway "gw" in --ip 10\.0\.2\.9:gw is not an IPv4 address/,
  );
  usage(() => parseGuestIp("10.0.2.9", "none"), /--network none gives it none/);
  assert.equal(parseMac("52-54-00-AB-CD-EF"), "52:54:00:ab:cd:ef");
  usage(() => parseMac("03:00:00:00:00:01"), /multicast/);
  usage(() => parseMac("52:54:00:ab:cd"), /is not a MAC address/);
});

test("QEMU: the MAC on the NIC, forwards to the chosen address, the address on both command lines", () => {
  const guestIp = parseGuestIp("10.0.2.42", "user");
  const ports = [{ hostIp: "127.0.0.1", hostPort: 8080, guestPort: 80, protocol: "tcp" as const }];
  const linux = machineSpec({ network: "user", mac: "52:54:00:ab:cd:ef", guestIp, ports });
  assert.equal(qemuNetdev(linux), "user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:8080-10.0.2.42:80");
  const argv = buildQemuArgv(linux, { accel: "tcg", instanceDir: "/m" });
  assert.ok(argv.includes("virtio-net-pci,netdev=net0,romfile=,mac=52:54:00:ab:cd:ef"), argv.join(" "));
  assert.match(
    kernelCommandLine(linux),
    / ip=10\.0\.2\.42::10\.0\.2\.2:255\.255\.255\.0::eth0:off:10\.0\.2\.3( |$)/,
  );
  // A user-given ip= wins.
  assert.doesNotMatch(kernelCommandLine({ ...linux, kernelArgs: ["ip=dhcp"] }), /ip=10\.0\.2\.42/);
  const uk = machineSpec({ guest: "unikraft", kernelKind: "multiboot", guestIp, appArgs: ["serve"] });
  assert.equal(kernelCommandLine(uk), "netdev.ip=10.0.2.42/24:10.0.2.2:10.0.2.3::: -- serve");
  assert.equal(
    qemuNetdev({ ...linux, guestIp: undefined }),
    "user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:8080-:80",
  );
});

test("Firecracker: --mac becomes guest_mac on the tap interface, --ip the Linux ip= in its boot args", async () => {
  const { firecrackerVmSpecFor } = await import("./firecracker/driver.js");
  const spec = machineSpec({
    kernelKind: "elf",
    network: "tap",
    networkDevice: "fc-tap0",
    mac: "06:00:ac:10:00:02",
    guestIp: parseGuestIp("172.16.0.2/30:172.16.0.1", "tap"),
  });
  const fc = firecrackerVmSpecFor(spec, "/m");
  assert.deepEqual(fc.networkInterfaces, [
    { id: "eth0", hostDevName: "fc-tap0", guestMac: "06:00:ac:10:00:02" },
  ]);
  assert.match(
    fc.bootArgs ?? "",
    /^console=ttyS0 reboot=k panic=1 pci=off ip=172\.16\.0\.2::172\.16\.0\.1:255\.255\.255\.252::eth0:off( |$)/,
  );
});
