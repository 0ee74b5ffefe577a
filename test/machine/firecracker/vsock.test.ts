/**
 * `--vsock CID` on Firecracker (through the spec-checking stand-in installed
 * as a fake `firecracker` on PATH): the `PUT /vsock` request in API mode, the
 * `vsock` object in `--config-file` mode, the host socket in the instance
 * directory, `kiln run`/`inspect` end to end, and the CLI's refusals (bad CID;
 * QEMU without `/dev/vhost-vsock`).
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
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
import { planFirecrackerRequests } from "../../../src/machine/firecracker/plan.js";
import { processAlive } from "../../../src/machine/supervise.js";
import { installFakeFirecracker, startStandin } from "../../fakes/firecracker-standin.js";
import { runKiln, scratchDir, sharedSkip } from "../../helpers/kiln.js";
import { machineSpec } from "../../helpers/specs.js";
import { buildTestElf } from "./elf-fixture.js";

/** These tests check requests against Firecracker's API spec in the shared reference data. */
const noSpec = sharedSkip("data/firecracker/firecracker-api.yaml");

interface Logged {
  method?: string;
  path?: string;
  status?: number;
  body?: Record<string, unknown>;
  errors: string[];
  configFile?: string;
}

function setup(t: TestContext) {
  const dir = scratchDir(t, "kiln-fc-vsock-");
  const bin = join(dir, "bin");
  const instanceDir = join(dir, "instance");
  mkdirSync(bin);
  mkdirSync(instanceDir);
  installFakeFirecracker(bin);
  writeFileSync(join(dir, "vmlinux"), "");
  const log = join(dir, "requests.jsonl");
  const env = { PATH: `${bin}:${process.env.PATH}`, KILN_FC_STANDIN_LOG: log };
  const logged = (): Logged[] =>
    existsSync(log)
      ? readFileSync(log, "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as Logged)
      : [];
  const spec = machineSpec({
    name: "vs",
    kernel: join(dir, "vmlinux"),
    kernelKind: "elf",
    memMiB: 128,
    vsock: { guestCid: 42 },
  });
  return { dir, instanceDir, env, logged, spec };
}

async function waitForFile(file: string, re: RegExp): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (existsSync(file) && re.test(readFileSync(file, "utf8"))) return;
    await sleep(25);
  }
  assert.fail(`${file} never matched ${re}`);
}

test("API mode: PUT /vsock with the CID and <instanceDir>/vsock.sock, spec-valid, before InstanceStart", {
  skip: noSpec,
}, async (t) => {
  const started = Date.now();
  const { instanceDir, env, logged, spec } = setup(t);
  const uds = join(instanceDir, "vsock.sock");
  // A leftover from an earlier VMM: Firecracker would refuse to bind over it.
  writeFileSync(uds, "stale");
  const m = await firecrackerDriver.start(spec, instanceDir, { env });
  t.after(() => {
    if (processAlive(m.pid)) process.kill(m.pid, "SIGKILL");
  });
  await waitForFile(m.consoleLog, /stand-in guest booted/);
  const reqs = logged();
  assert.deepEqual(
    reqs.flatMap((r) => r.errors),
    [],
  );
  const paths = reqs.map((r) => `${r.method} ${r.path} ${r.status}`);
  assert.ok(paths.includes("PUT /vsock 204"), paths.join("\n"));
  assert.ok(paths.indexOf("PUT /vsock 204") < paths.indexOf("PUT /actions 204"), paths.join("\n"));
  assert.deepEqual(reqs.find((r) => r.path === "/vsock")?.body, { guest_cid: 42, uds_path: uds });
  // The stand-in bound it as Firecracker does: host programs connect there.
  assert.ok(statSync(uds).isSocket(), `${uds} is not a socket`);
  await firecrackerDriver.stop(instanceDir, m.pid, { timeoutMs: 5000 });
  t.diagnostic(`took ${Date.now() - started} ms`);
});

test("config-file mode: firecracker.json has the vsock object and the stand-in validates it", {
  skip: noSpec,
}, async (t) => {
  const { instanceDir, env, logged, spec } = setup(t);
  const driver = createFirecrackerDriver({ mode: "config-file" });
  const m = await driver.start(spec, instanceDir, { env });
  t.after(() => {
    if (processAlive(m.pid)) process.kill(m.pid, "SIGKILL");
  });
  await waitForFile(m.consoleLog, /stand-in guest booted/);
  const uds = join(instanceDir, "vsock.sock");
  const file = JSON.parse(readFileSync(join(instanceDir, "firecracker.json"), "utf8")) as Record<
    string,
    unknown
  >;
  assert.deepEqual(file.vsock, { guest_cid: 42, uds_path: uds });
  const first = logged()[0]!;
  assert.equal(first.configFile, join(instanceDir, "firecracker.json"));
  assert.deepEqual(first.errors, []);
  assert.deepEqual(first.body?.vsock, { guest_cid: 42, uds_path: uds });
  assert.ok(statSync(uds).isSocket());
  await driver.stop(instanceDir, m.pid, { timeoutMs: 5000 });
});

test("the planner refuses reserved CIDs; the stand-in's spec check refuses what the planner would not send", {
  skip: noSpec,
}, async (t) => {
  const { dir, instanceDir, spec } = setup(t);
  for (const guestCid of [2, 2 ** 32 - 1]) {
    assert.throws(
      () => planFirecrackerRequests(firecrackerVmSpecFor({ ...spec, vsock: { guestCid } }, instanceDir)),
      (e: unknown) => isKilnError(e, "FIRECRACKER_SPEC_INVALID") && e.message.endsWith(`got ${guestCid}`),
    );
  }
  // What Firecracker itself says (the spec's `minimum: 3`), so the planner's rule is not the only guard.
  const standin = await startStandin({ socketPath: join(dir, "api.sock") });
  t.after(() => standin.close());
  const res = await fetchUnix(join(dir, "api.sock"), "/vsock", { guest_cid: 2, uds_path: "/x" });
  assert.equal(res.status, 400);
  assert.match(res.body, /guest_cid/);
});

/** PUT a JSON body over a Unix socket (Node's http with socketPath). */
async function fetchUnix(
  socketPath: string,
  path: string,
  body: unknown,
): Promise<{ status: number; body: string }> {
  const { request } = await import("node:http");
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: "PUT", headers: { "Content-Type": "application/json" } });
    req.on("response", (res) => {
      let text = "";
      res.on("data", (c: Buffer) => {
        text += c.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

test("kiln run --vsock: Firecracker machine shows its CID in inspect and has the socket; bad CIDs and QEMU without vhost are refused", {
  skip: noSpec,
}, async (t) => {
  const started = Date.now();
  const dir = scratchDir(t, "kiln-fc-vsock-cli-");
  const bin = join(dir, "bin");
  mkdirSync(bin);
  installFakeFirecracker(bin);
  const home = join(dir, "home");
  const env = { PATH: `${bin}:${process.env.PATH}`, KILN_HOME: home };
  const kernel = buildTestElf(dir, "vmlinux", true);
  const fcArgs = ["run", "--vmm", "firecracker", "--network", "none"];

  const run = await runKiln([...fcArgs, "-d", "-n", "vs1", "--vsock", "3", kernel], { env });
  assert.equal(run.code, 0, run.stderr);
  try {
    const inspect = await runKiln(["inspect", "vs1", "--json"], { env });
    assert.equal(inspect.code, 0, inspect.stderr);
    const details = JSON.parse(inspect.stdout) as { spec: MachineSpec; dir: string };
    assert.deepEqual(details.spec.vsock, { guestCid: 3 });
    assert.ok(statSync(join(details.dir, "vsock.sock")).isSocket());
    const text = await runKiln(["inspect", "vs1"], { env });
    assert.match(
      text.stdout,
      new RegExp(`^vsock: +CID 3 \\(host side: ${details.dir}/vsock\\.sock\\)$`, "m"),
    );
  } finally {
    await runKiln(["rm", "-f", "vs1"], { env });
  }

  for (const bad of ["2", "4294967296"]) {
    const r = await runKiln([...fcArgs, "--vsock", bad, kernel], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`^error: --vsock CID must be a whole number from 3 to 4294967294 .*; got "${bad}"$`, "m"),
    );
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  }

  if (existsSync("/dev/vhost-vsock")) {
    t.diagnostic("this host has /dev/vhost-vsock: the QEMU refusal is not exercised here");
  } else {
    const r = await runKiln(["run", "--network", "none", "--vsock", "3", "-n", "q1", kernel], { env });
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^error: --vsock on QEMU needs the host's vhost-vsock device \/dev\/vhost-vsock, which does not exist/m,
    );
    assert.match(r.stderr, /^hint: load it once as root: modprobe vhost_vsock; or use --vmm firecracker/m);
    // Refused before anything started: no machine was created.
    const ps = JSON.parse((await runKiln(["ps", "-a", "--json"], { env })).stdout) as { name: string }[];
    assert.equal(
      ps.find((m) => m.name === "q1"),
      undefined,
    );
  }
  t.diagnostic(`took ${Date.now() - started} ms`);
});
