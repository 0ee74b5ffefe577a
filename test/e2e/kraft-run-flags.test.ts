/**
 * kraft's `run --no-start`, `--mac`, `--ip` and `--prefix`/`--prefix-name`,
 * end to end on real QEMU (TCG) with Debian's kernel and a Kiln initrd
 * directory (busybox and the virtio-net modules):
 * - `--no-start` records a `created` machine with no QEMU; `kiln start` boots it;
 * - `--mac` is the address the guest's eth0 reports; `--ip` reaches the guest
 *   as the kernel's `ip=` argument (configured by /init, as initramfs-tools
 *   does), and a `-p` forward goes to that address: the host fetches a page
 *   the guest's busybox httpd serves there;
 * - `--prefix-name` prints every console line as `NAME | line`.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { basename, join } from "node:path";
import { test } from "node:test";
import { busyboxTree, debianKernel, noBusybox, noQemu } from "../helpers/guests.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { consoleLog, qemuPidsUnder } from "../helpers/machines.js";

const NET_MODULES = [
  "drivers/virtio/virtio_ring",
  "drivers/virtio/virtio",
  "drivers/virtio/virtio_pci_legacy_dev",
  "drivers/virtio/virtio_pci_modern_dev",
  "drivers/virtio/virtio_pci",
  "net/core/failover",
  "drivers/net/net_failover",
  "drivers/net/virtio_net",
];
const { kernel, skip: noKernel } = debianKernel();
const modDir = kernel ? `/lib/modules/${basename(kernel).slice("vmlinuz-".length)}/kernel` : "";
const skip = noKernel ?? noQemu() ?? noBusybox() ?? false;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** An initrd whose /init loads virtio-net, applies `ip=` from the command line, serves a page, reports. */
function netInitrd(dir: string): string {
  const root = join(dir, "initrd");
  const b = "/bin/busybox";
  busyboxTree(root, "init", [
    `#!${b} sh`,
    `${b} mkdir -p /proc /sys /dev /www`,
    `${b} mount -t proc proc /proc`,
    `${b} mount -t sysfs sysfs /sys`,
    `for m in ${NET_MODULES.map((m) => basename(m)).join(" ")}; do ${b} insmod /lib/modules/$m.ko; done`,
    `i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do ${b} sleep 0.1; i=$((i+1)); done`,
    // ip=<client>:<server>:<gw>:<netmask>:<host>:<device>:<autoconf>: the fields initramfs-tools reads.
    `ipv=$(${b} tr ' ' '\\n' < /proc/cmdline | ${b} sed -n 's/^ip=//p')`,
    `addr=$(echo "$ipv" | ${b} cut -d: -f1); gw=$(echo "$ipv" | ${b} cut -d: -f3); mask=$(echo "$ipv" | ${b} cut -d: -f4)`,
    `${b} ifconfig lo 127.0.0.1 up`,
    `${b} ifconfig eth0 "$addr" netmask "$mask" up && ${b} route add default gw "$gw"`,
    `echo "page-from-$addr" > /www/index.html`,
    `${b} httpd -p 80 -h /www`,
    `echo "KILN-NET mac=$(${b} cat /sys/class/net/eth0/address) ip=$ipv"`,
    `while :; do ${b} sleep 10; done`,
  ]);
  mkdirSync(join(root, "lib/modules"), { recursive: true });
  for (const m of NET_MODULES)
    copyFileSync(join(modDir, `${m}.ko`), join(root, "lib/modules", `${basename(m)}.ko`));
  return root;
}

test("run --no-start creates without QEMU; kiln start boots it with --mac and --ip; -p reaches the chosen address", {
  skip,
  timeout: 300_000,
}, async (t) => {
  const started = Date.now();
  const dir = scratchDir(t, "kiln-kraft-flags-");
  const home = join(dir, "home");
  const env = { KILN_HOME: home };
  const port = await freePort();
  const initrd = netInitrd(dir);
  const create = await runKiln(
    [
      "run",
      "--no-start",
      "-W",
      "-n",
      "later",
      "--mac",
      "52:54:00:AB:CD:EF",
      "--ip",
      "10.0.2.42",
      "-p",
      `${port}:80`,
      "-a",
      "quiet",
      kernel!,
      "--initrd",
      initrd,
    ],
    { env },
  );
  assert.equal(create.code, 0, create.stderr);
  assert.equal(create.stdout, "later\n");
  try {
    assert.deepEqual(qemuPidsUnder(home), [], "created, not started: no QEMU");
    const running = JSON.parse((await runKiln(["ps", "--json"], { env })).stdout) as { name: string }[];
    assert.deepEqual(running, [], "plain ps shows running machines only");
    const all = JSON.parse((await runKiln(["ps", "-a", "--json"], { env })).stdout) as {
      name: string;
      state: string;
    }[];
    assert.deepEqual(
      all.map((m) => [m.name, m.state]),
      [["later", "created"]],
    );
    const filtered = await runKiln(["ps", "-q", "--filter", "status=created"], { env });
    assert.equal(filtered.stdout, "later\n");
    const stop = await runKiln(["stop", "later"], { env });
    assert.equal(stop.code, 0, `stopping a created machine has nothing to do: ${stop.stderr}`);

    const start = await runKiln(["start", "later"], { env });
    assert.equal(start.code, 0, start.stderr);
    let logs = "";
    const deadline = Date.now() + 200_000;
    while (!/KILN-NET [^\n]*\n/.test(logs) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      logs = consoleLog(home, "later");
    }
    // kiln logs prints the same console.
    assert.match((await runKiln(["logs", "later"], { env })).stdout, /KILN-NET /);
    assert.match(
      logs,
      /KILN-NET mac=52:54:00:ab:cd:ef ip=10\.0\.2\.42::10\.0\.2\.2:255\.255\.255\.0::eth0:off:10\.0\.2\.3/,
      logs.slice(-2000),
    );
    // The forward goes to the guest's own address (slirp would otherwise send it to 10.0.2.15).
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await res.text(), "page-from-10.0.2.42\n");
  } finally {
    await runKiln(["rm", "-f", "later"], { env });
  }
  assert.deepEqual(qemuPidsUnder(home), []);
  t.diagnostic(`took ${Date.now() - started} ms`);
});

test("run --prefix-name prints each console line as 'NAME | line'; bad --mac/--ip and --no-start with --wait-for are refused", {
  skip,
  timeout: 300_000,
}, async (t) => {
  const dir = scratchDir(t, "kiln-prefix-");
  const env = { KILN_HOME: join(dir, "home") };
  const initrd = join(dir, "initrd");
  busyboxTree(initrd, "init", [
    "#!/bin/busybox sh",
    "echo KILN-PREFIXED-$((6*7))",
    "/bin/busybox poweroff -f",
  ]);
  const r = await runKiln(
    [
      "run",
      "-W",
      "--rm",
      "-n",
      "pfx",
      "--prefix-name",
      "--network",
      "none",
      "-a",
      "quiet",
      kernel!,
      "--initrd",
      initrd,
    ],
    { env, timeoutMs: 200_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.replace(/\n$/, "").split("\n");
  assert.ok(lines.length > 1, r.stdout);
  for (const l of lines) assert.match(l, /^pfx \| /, JSON.stringify(l));
  assert.ok(
    lines.some((l) => /^pfx \| .*KILN-PREFIXED-42/.test(l)),
    r.stdout.slice(-2000),
  );

  const bad: [string[], RegExp][] = [
    [
      ["--mac", "01:00:5e:00:00:01"],
      /^error: --mac 01:00:5e:00:00:01 is a multicast \(group\) address, which a NIC cannot have$/m,
    ],
    [["--mac", "52:54:00:12:34"], /^error: --mac "52:54:00:12:34" is not a MAC address \(six hex pairs\)$/m],
    [
      ["--ip", "192.168.1.5"],
      /^error: --ip 192\.168\.1\.5: on the user-mode network the guest's address must be in 10\.0\.2\.0\/24/m,
    ],
    [
      ["--ip", "10.0.2.300"],
      /^error: address "10\.0\.2\.300" in --ip 10\.0\.2\.300 is not an IPv4 address$/m,
    ],
    [
      ["--ip", "10.0.2.9", "--network", "none"],
      /^error: --ip configures the guest's NIC, and --network none gives it none$/m,
    ],
    [
      ["--no-start", "--wait-for", "x"],
      /^error: --no-start creates the machine without running it, so --wait-for has nothing to act on$/m,
    ],
    [
      ["-d", "--prefix", "x"],
      /^error: --prefix prefixes the console a foreground run prints; -d prints none$/m,
    ],
  ];
  for (const [flags, re] of bad) {
    const b = await runKiln(["run", "-W", ...flags, kernel!, "--initrd", initrd], { env });
    assert.equal(b.code, 2, `${flags.join(" ")}: ${b.stderr}`);
    assert.match(b.stderr, re, flags.join(" "));
  }
  const ps = JSON.parse((await runKiln(["ps", "-a", "--json"], { env })).stdout) as unknown[];
  assert.deepEqual(ps, [], "no refusal created a machine");
});
