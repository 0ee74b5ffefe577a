/**
 * Every request Kiln plans goes through the real client to the spec-checking
 * stand-in, which validates it against Firecracker's swagger spec; the config
 * file is checked against `FullVmConfiguration`; bad input never leaves Kiln;
 * and the stand-in's own rejections prove the check can fail.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { isKilnError, KilnError } from "../../../src/core/errors.js";
import { FirecrackerClient } from "../../../src/machine/firecracker/client.js";
import {
  buildFirecrackerConfig,
  type FirecrackerVmSpec,
  planFirecrackerRequests,
  SEND_CTRL_ALT_DEL,
} from "../../../src/machine/firecracker/plan.js";
import { FirecrackerApi } from "../../../src/machine/firecracker/spec-check.js";
import { FIRECRACKER_API_YAML, startStandin } from "../../fakes/firecracker-standin.js";
import { scratchDir, sharedSkip } from "../../helpers/kiln.js";

/** These tests check requests against Firecracker's API spec in the shared reference data. */
const noSpec = sharedSkip("data/firecracker/firecracker-api.yaml");
const api = noSpec ? (undefined as never) : FirecrackerApi.load(FIRECRACKER_API_YAML);

function fullSpec(dir: string): FirecrackerVmSpec {
  return {
    kernelPath: "/var/lib/kiln/vmlinux",
    initrdPath: "/var/lib/kiln/initrd.cpio",
    bootArgs: "console=ttyS0 reboot=k panic=1 pci=off init=/sbin/init",
    vcpuCount: 2,
    memMiB: 256,
    smt: false,
    drives: [
      { id: "rootfs", pathOnHost: "/var/lib/kiln/rootfs.ext4", isRoot: true, readOnly: false },
      { id: "data_ro", pathOnHost: "/var/lib/kiln/data.erofs", isRoot: false, readOnly: true },
    ],
    networkInterfaces: [{ id: "eth0", hostDevName: "tap0", guestMac: "06:00:ac:10:00:02", mtu: 1500 }],
    vsock: { guestCid: 3, udsPath: join(dir, "vsock.sock") },
    logger: { logPath: join(dir, "fc.log"), level: "Debug" },
    metrics: { metricsPath: join(dir, "metrics.json") },
  };
}

async function withStandin<T>(
  t: import("node:test").TestContext,
  fn: (s: Awaited<ReturnType<typeof startStandin>>, client: FirecrackerClient) => Promise<T>,
) {
  const dir = scratchDir(t, "kiln-fc-");
  const socketPath = join(dir, "fc.sock");
  const standin = await startStandin({ socketPath, api });
  t.after(() => standin.close());
  return fn(standin, new FirecrackerClient(socketPath));
}

test("every planned request of a full-featured machine is valid against the spec", {
  skip: noSpec,
}, async (t) => {
  await withStandin(t, async (standin, client) => {
    const dir = scratchDir(t);
    const reqs = planFirecrackerRequests(fullSpec(dir));
    await client.sendAll(reqs);
    assert.equal(standin.requests.length, reqs.length);
    for (const r of standin.requests) {
      assert.deepEqual(r.errors, [], `${r.method} ${r.path}`);
      assert.equal(r.status, 204);
    }
    assert.deepEqual(
      standin.requests.map((r) => `${r.method} ${r.path}`),
      [
        "PUT /logger",
        "PUT /metrics",
        "PUT /machine-config",
        "PUT /boot-source",
        "PUT /drives/rootfs",
        "PUT /drives/data_ro",
        "PUT /network-interfaces/eth0",
        "PUT /vsock",
        "PUT /actions",
      ],
    );
    assert.ok(standin.started());
    // What the stand-in accumulated is what Kiln meant to configure.
    const drives = standin.config.drives as { drive_id: string; is_read_only: boolean }[];
    assert.deepEqual(
      drives.map((d) => [d.drive_id, d.is_read_only]),
      [
        ["rootfs", false],
        ["data_ro", true],
      ],
    );
    assert.equal(
      (standin.config["boot-source"] as { initrd_path: string }).initrd_path,
      "/var/lib/kiln/initrd.cpio",
    );
    assert.deepEqual(standin.config["machine-config"], { vcpu_count: 2, mem_size_mib: 256, smt: false });
  });
});

test("the equivalent --config-file is a valid FullVmConfiguration with the same resources", {
  skip: noSpec,
}, (t) => {
  const dir = scratchDir(t);
  const spec = fullSpec(dir);
  const config = buildFirecrackerConfig(spec);
  assert.deepEqual(api.checkDefinition("FullVmConfiguration", config), []);
  // Same bodies as the API requests, resource by resource.
  const byPath = new Map(planFirecrackerRequests(spec).map((r) => [r.path, r.body]));
  assert.deepEqual(config["boot-source"], byPath.get("/boot-source"));
  assert.deepEqual(config["machine-config"], byPath.get("/machine-config"));
  assert.deepEqual(config.drives, [byPath.get("/drives/rootfs"), byPath.get("/drives/data_ro")]);
  assert.deepEqual(config["network-interfaces"], [byPath.get("/network-interfaces/eth0")]);
  assert.deepEqual(config.vsock, byPath.get("/vsock"));
  // The check can fail: a typo in a key is caught.
  assert.match(
    api.checkDefinition("FullVmConfiguration", { ...config, boot_source: config["boot-source"] })[0]!,
    /unknown field "boot_source"/,
  );
});

test("invalid machines are rejected before anything is sent, stating the rule and the value", {
  skip: noSpec,
}, async (t) => {
  await withStandin(t, async (standin) => {
    const dir = scratchDir(t);
    const base = fullSpec(dir);
    const cases: [Partial<FirecrackerVmSpec>, RegExp][] = [
      [{ memMiB: 0 }, /memory must be a whole number of MiB, at least 1, got 0/],
      [{ vcpuCount: 33 }, /Firecracker runs 1 to 32 vCPUs, got 33/],
      [{ vcpuCount: 3, smt: true }, /with SMT, the vCPU count must be 1 or even, got 3/],
      [{ kernelPath: "vmlinux" }, /kernel path must be an absolute path, got "vmlinux"/],
      [
        { drives: [base.drives[0]!, { ...base.drives[1]!, isRoot: true }] },
        /at most one drive can be the root device, got 2/,
      ],
      [
        { drives: [{ ...base.drives[0]!, id: "root-fs" }] },
        /drive id must be 1-64 letters, digits or "_", got "root-fs"/,
      ],
      [
        { networkInterfaces: [{ id: "eth0", hostDevName: "tap0", guestMac: "06:00" }] },
        /guest MAC .* got "06:00"/,
      ],
      [
        { vsock: { guestCid: 2, udsPath: "/v.sock" } },
        /guest CID must be a whole number from 3 to 4294967294 .* got 2$/,
      ],
    ];
    for (const [patch, re] of cases) {
      for (const f of [planFirecrackerRequests, buildFirecrackerConfig]) {
        assert.throws(
          () => f({ ...base, ...patch }),
          (e: unknown) => isKilnError(e, "FIRECRACKER_SPEC_INVALID") && re.test(e.message),
          JSON.stringify(patch),
        );
      }
    }
    assert.equal(standin.requests.length, 0);
  });
});

test("the stand-in rejects invalid bodies with Firecracker's fault_message, surfaced by the client", {
  skip: noSpec,
}, async (t) => {
  await withStandin(t, async (standin, client) => {
    const bad = {
      method: "PUT" as const,
      path: "/machine-config",
      body: { vcpu_count: 33, mem_size_mib: 128 },
    };
    const err = await client.send(bad).then(
      () => assert.fail("accepted vcpu_count 33"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof KilnError);
    assert.equal(err.code, "FIRECRACKER_API_ERROR");
    assert.match(
      err.message,
      /^Firecracker rejected PUT \/machine-config: An error occurred when deserializing/,
    );
    assert.match(err.message, /vcpu_count: must be <= 32/);
    assert.ok(err.details.includes(`request: PUT /machine-config {"vcpu_count":33,"mem_size_mib":128}`));
    assert.equal(standin.requests[0]?.status, 400);

    await assert.rejects(
      client.send({ method: "PUT", path: "/nonsense", body: {} }),
      /Invalid request method and\/or path: PUT \/nonsense\./,
    );
  });
});

test("bad state transitions: start without a kernel, configure after start, Ctrl-Alt-Del before start", {
  skip: noSpec,
}, async (t) => {
  await withStandin(t, async (_standin, client) => {
    await assert.rejects(client.send(SEND_CTRL_ALT_DEL), /not supported before starting the microVM/);
    await assert.rejects(
      client.send({ method: "PUT", path: "/actions", body: { action_type: "InstanceStart" } }),
      /Firecracker rejected PUT \/actions: Cannot start microvm without kernel configuration\./,
    );
    const dir = scratchDir(t);
    await client.sendAll(
      planFirecrackerRequests({ ...fullSpec(dir), logger: undefined, metrics: undefined }),
    );
    await assert.rejects(
      client.send({ method: "PUT", path: "/machine-config", body: { vcpu_count: 1, mem_size_mib: 128 } }),
      /Firecracker rejected PUT \/machine-config: The requested operation is not supported after starting the microVM\./,
    );
    await client.send(SEND_CTRL_ALT_DEL);
  });
});

test("an unreachable socket is a clear error", { skip: noSpec }, async (t) => {
  const dir = scratchDir(t);
  const client = new FirecrackerClient(join(dir, "absent.sock"));
  await assert.rejects(client.send({ method: "GET", path: "/" }), (e: unknown) =>
    isKilnError(e, "FIRECRACKER_API_UNREACHABLE"),
  );
});
