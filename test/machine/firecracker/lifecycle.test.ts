/**
 * The driver's real code path (spawn → API socket → configure → InstanceStart
 * → SendCtrlAltDel → kill after a timeout) against the stand-in installed as
 * a fake `firecracker` on PATH. Every request it received is checked against
 * Firecracker's swagger spec and logged; the tests read that log.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { isKilnError } from "../../../src/core/errors.js";
import type { MachineSpec } from "../../../src/machine/driver.js";
import {
  createFirecrackerDriver,
  firecrackerDriver,
  firecrackerVmSpecFor,
} from "../../../src/machine/firecracker/driver.js";
import { launchFirecracker } from "../../../src/machine/firecracker/process.js";
import { processAlive, readExitStatus } from "../../../src/machine/supervise.js";
import { installFakeFirecracker } from "../../fakes/firecracker-standin.js";
import { scratchDir, sharedSkip } from "../../helpers/kiln.js";

/** These tests check requests against Firecracker's API spec in the shared reference data. */
const noSpec = sharedSkip("data/firecracker/firecracker-api.yaml");

function machine(dir: string, patch: Partial<MachineSpec> = {}): MachineSpec {
  return {
    name: "fc_test",
    kernel: join(dir, "vmlinux"),
    kernelKind: "elf",
    guest: "linux",
    architecture: "x86_64",
    memMiB: 128,
    cpus: 1,
    kernelArgs: ["quiet"],
    appArgs: [],
    env: {},
    initrd: join(dir, "initrd.cpio"),
    rootfs: join(dir, "rootfs.ext4"),
    volumes: [],
    ports: [],
    network: "none",
    accel: "auto",
    ...patch,
  };
}

interface Logged {
  method?: string;
  path?: string;
  status?: number;
  errors: string[];
  configFile?: string;
}

function setup(t: TestContext, extraEnv: NodeJS.ProcessEnv = {}) {
  const dir = scratchDir(t, "kiln-fc-life-");
  const bin = join(dir, "bin");
  const instanceDir = join(dir, "instance");
  mkdirSync(bin);
  mkdirSync(instanceDir);
  installFakeFirecracker(bin);
  // Firecracker opens the kernel, initrd and drives when they are configured.
  for (const f of ["vmlinux", "initrd.cpio", "rootfs.ext4"]) writeFileSync(join(dir, f), "");
  const log = join(dir, "requests.jsonl");
  const env = { PATH: `${bin}:${process.env.PATH}`, KILN_FC_STANDIN_LOG: log, ...extraEnv };
  const logged = (): Logged[] =>
    existsSync(log)
      ? readFileSync(log, "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as Logged)
      : [];
  return { dir, instanceDir, env, logged };
}

async function waitFor(file: string, re: RegExp, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, "utf8") : "";
    if (re.test(text)) return text;
    if (Date.now() > deadline) assert.fail(`${file} never matched ${re}; it holds:\n${text}`);
    await sleep(25);
  }
}

test("start configures the machine over the API socket and stop ends it with SendCtrlAltDel", {
  skip: noSpec,
}, async (t) => {
  const started = Date.now();
  const { dir, instanceDir, env, logged } = setup(t);
  const spec = machine(dir);
  const m = await firecrackerDriver.start(spec, instanceDir, { env });
  t.after(() => {
    if (processAlive(m.pid)) process.kill(m.pid, "SIGKILL");
  });
  assert.ok(processAlive(m.pid));
  assert.deepEqual(m.argv.slice(1, 3), ["--api-sock", join(instanceDir, "fc.sock")]);
  // Kiln names have underscores; Firecracker ids allow only letters, digits and "-".
  assert.deepEqual(m.argv.slice(3, 5), ["--id", "fc-test"]);
  const console = await waitFor(m.consoleLog, /stand-in guest booted/);
  assert.match(
    console,
    new RegExp(`kernel=${spec.kernel} args=console=ttyS0 reboot=k panic=1 pci=off quiet`),
  );

  const reqs = logged();
  assert.deepEqual(
    reqs.filter((r) => r.errors.length > 0),
    [],
  );
  assert.deepEqual(
    reqs.map((r) => `${r.method} ${r.path} ${r.status}`),
    [
      "GET / 200",
      "PUT /logger 204",
      "PUT /metrics 204",
      "PUT /machine-config 204",
      "PUT /boot-source 204",
      "PUT /drives/rootfs 204",
      "PUT /actions 204",
    ],
  );

  await firecrackerDriver.stop(instanceDir, m.pid, { timeoutMs: 5000 });
  assert.ok(!processAlive(m.pid));
  const after = logged();
  assert.equal(after.at(-1)?.path, "/actions");
  await waitFor(m.consoleLog, /reboot: Restarting system/);
  // The supervisor records the end: the stand-in exits 0 as Firecracker does on a guest reset.
  for (let i = 0; i < 100 && (await readExitStatus(instanceDir)) === undefined; i++) await sleep(20);
  assert.equal(await readExitStatus(instanceDir), 0);
  const exit = firecrackerDriver.guestExit({ exitCode: 0, signal: null }, readFileSync(m.consoleLog, "utf8"));
  assert.deepEqual(exit, { exitCode: 0, reason: "powered off" });
  t.diagnostic(`lifecycle took ${Date.now() - started} ms`);
});

test("a guest that ignores Ctrl-Alt-Del is killed after the timeout", { skip: noSpec }, async (t) => {
  const { dir, instanceDir, env, logged } = setup(t, { KILN_FC_STANDIN_IGNORE_CTRLALTDEL: "1" });
  const m = await firecrackerDriver.start(machine(dir), instanceDir, { env });
  t.after(() => {
    if (processAlive(m.pid)) process.kill(m.pid, "SIGKILL");
  });
  await waitFor(m.consoleLog, /stand-in guest booted/);
  await firecrackerDriver.stop(instanceDir, m.pid, { timeoutMs: 300 });
  assert.ok(!processAlive(m.pid));
  // It did ask first.
  assert.ok(logged().some((r) => r.path === "/actions" && r.status === 204 && r.method === "PUT"));
  for (let i = 0; i < 100 && (await readExitStatus(instanceDir)) === undefined; i++) await sleep(20);
  assert.equal(await readExitStatus(instanceDir), 128 + 9);
});

test("config-file mode boots from a FullVmConfiguration file the stand-in validates", {
  skip: noSpec,
}, async (t) => {
  const { dir, instanceDir, env, logged } = setup(t);
  const driver = createFirecrackerDriver({ mode: "config-file" });
  const m = await driver.start(machine(dir, { appArgs: ["hello world"] }), instanceDir, { env });
  t.after(() => {
    if (processAlive(m.pid)) process.kill(m.pid, "SIGKILL");
  });
  assert.ok(m.argv.includes("--config-file"));
  await waitFor(m.consoleLog, /stand-in guest booted: .* -- "hello world"/);
  const first = logged()[0]!;
  assert.equal(first.configFile, join(instanceDir, "firecracker.json"));
  assert.deepEqual(first.errors, []);
  await driver.stop(instanceDir, m.pid, { timeoutMs: 5000 });
  assert.ok(!processAlive(m.pid));
});

test("an API error during configuration kills the process and quotes Firecracker", {
  skip: noSpec,
}, async (t) => {
  const { dir, instanceDir, env } = setup(t);
  rmSync(join(dir, "rootfs.ext4"));
  const err = await firecrackerDriver.start(machine(dir), instanceDir, { env }).then(
    () => assert.fail("started without its root filesystem"),
    (e: unknown) => e,
  );
  assert.ok(isKilnError(err, "FIRECRACKER_API_ERROR"), String(err));
  assert.match(
    err.message,
    /^Firecracker rejected PUT \/drives\/rootfs: Unable to create the block device: No such file/,
  );
  assert.ok(err.details.some((d) => d.startsWith('request: PUT /drives/rootfs {"drive_id":"rootfs"')));
  const pid = Number(readFileSync(join(instanceDir, "vmm.pid"), "utf8"));
  assert.ok(!processAlive(pid), "firecracker left running after a failed start");
});

test("a firecracker that exits before its socket is ready: the error shows its output", {
  skip: noSpec,
}, async (t) => {
  const { dir, instanceDir, env } = setup(t);
  const fc = firecrackerVmSpecFor(machine(dir), instanceDir);
  const binary = join(dir, "bin", "firecracker");
  const err = await launchFirecracker(fc, instanceDir, {
    binary,
    env: { ...process.env, ...env },
    id: "bad_id",
  }).then(
    () => assert.fail("started with an invalid --id"),
    (e: unknown) => e,
  );
  assert.ok(isKilnError(err, "VMM_FAILED"), String(err));
  assert.match(err.message, /firecracker exited with status 1 before its API socket was ready/);
  assert.ok(
    err.details.some((d) => d.includes("Invalid instance ID: bad_id")),
    err.details.join("\n"),
  );
});

test("--network tap without the tap device is refused, naming what is missing", async (t) => {
  const { dir, env } = setup(t);
  const saved = process.env.PATH;
  process.env.PATH = env.PATH;
  try {
    await assert.rejects(firecrackerDriver.available(machine(dir, { network: "tap" })), (e: unknown) => {
      assert.ok(isKilnError(e, "NETWORK_PRIVILEGES"), String(e));
      assert.match(e.message, /needs the tap device kt-fc_test, which does not exist/);
      return true;
    });
  } finally {
    process.env.PATH = saved;
  }
});

test("without a firecracker binary: a clear error naming --vmm qemu", async (t) => {
  const dir = scratchDir(t);
  const spec = machine(dir);
  const savedPath = process.env.PATH;
  process.env.PATH = join(dir, "empty-bin");
  try {
    await assert.rejects(firecrackerDriver.available(spec), (e: unknown) => {
      assert.ok(isKilnError(e, "TOOL_MISSING"));
      assert.match(
        e.message,
        /firecracker not found on PATH \(needed to run machines with --vmm firecracker\)/,
      );
      assert.match(e.hint ?? "", /--vmm qemu` runs the same machine on QEMU/);
      return true;
    });
  } finally {
    process.env.PATH = savedPath;
  }
});

test("what Firecracker cannot do is refused up front with the QEMU alternative", async (t) => {
  const { dir, env } = setup(t);
  const cases: [Partial<MachineSpec>, RegExp][] = [
    [{ kernelKind: "bzimage" }, /uncompressed vmlinux \(ELF\).* compressed bzImage/],
    [{ kernelKind: "multiboot", guest: "unikraft" }, /Multiboot image .* built for platform fc/],
    [
      { volumes: [{ hostPath: dir, guestPath: "/mnt", readonly: false, tag: "fs0" }] },
      /no shared-folder device \(9p\)/,
    ],
    [{ ports: [{ hostIp: "127.0.0.1", hostPort: 8080, guestPort: 80, protocol: "tcp" }] }, /-p 8080:80/],
  ];
  const saved = process.env.PATH;
  process.env.PATH = env.PATH;
  try {
    for (const [patch, re] of cases) {
      await assert.rejects(firecrackerDriver.available(machine(dir, patch)), (e: unknown) => {
        assert.ok(isKilnError(e, "VMM_UNSUPPORTED"), String(e));
        assert.match(e.message, re);
        assert.match(e.hint ?? "", /--vmm qemu/);
        return true;
      });
    }
  } finally {
    process.env.PATH = saved;
  }
});

test("an EROFS root drive is read-only (Firecracker then appends `ro`), an ext4 one writable", (t) => {
  const { dir, instanceDir } = setup(t);
  const drive = (rootfs: string) => firecrackerVmSpecFor(machine(dir, { rootfs }), instanceDir).drives[0];
  assert.equal(drive(join(dir, "app.erofs"))?.readOnly, true);
  assert.equal(drive(join(dir, "rootfs.ext4"))?.readOnly, false);
});
