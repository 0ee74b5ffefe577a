/**
 * The swagger checker itself: it must accept what Firecracker accepts and
 * reject what Firecracker rejects, or the stand-in's verdicts mean nothing.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { FirecrackerApi } from "../../../src/machine/firecracker/spec-check.js";
import { FIRECRACKER_API_YAML } from "../../fakes/firecracker-standin.js";
import { sharedSkip } from "../../helpers/kiln.js";

/** These tests check requests against Firecracker's API spec in the shared reference data. */
const noSpec = sharedSkip("data/firecracker/firecracker-api.yaml");
const api = noSpec ? (undefined as never) : FirecrackerApi.load(FIRECRACKER_API_YAML);

test("reads the spec's version, operations and definitions", { skip: noSpec }, () => {
  assert.match(api.version, /^1\.\d+/);
  const ops = api.operations.map((o) => `${o.method} ${o.template}`);
  for (const op of [
    "PUT /machine-config",
    "PUT /boot-source",
    "PUT /drives/{drive_id}",
    "PUT /actions",
    "GET /",
  ]) {
    assert.ok(ops.includes(op), `${op} missing from ${ops.join(", ")}`);
  }
  assert.ok(api.definitions().includes("FullVmConfiguration"));
});

test("accepts valid bodies and finds path parameters", { skip: noSpec }, () => {
  const r = api.checkRequest("PUT", "/drives/rootfs", {
    drive_id: "rootfs",
    path_on_host: "/img/rootfs.ext4",
    is_root_device: true,
    is_read_only: false,
  });
  assert.deepEqual(r.errors, []);
  assert.equal(r.operation?.bodyDefinition, "Drive");
  assert.deepEqual(r.params, { drive_id: "rootfs" });
  assert.deepEqual(api.checkRequest("PUT", "/actions", { action_type: "InstanceStart" }).errors, []);
  assert.deepEqual(api.checkRequest("GET", "/", undefined).errors, []);
});

test("rejects missing required fields, wrong types, enums, bounds and unknown fields", {
  skip: noSpec,
}, () => {
  const cases: [string, string, unknown, RegExp][] = [
    ["PUT", "/machine-config", { vcpu_count: 2 }, /missing required field "mem_size_mib"/],
    ["PUT", "/machine-config", { vcpu_count: 33, mem_size_mib: 128 }, /body\.vcpu_count: must be <= 32/],
    ["PUT", "/machine-config", { vcpu_count: 0, mem_size_mib: 128 }, /must be >= 1/],
    ["PUT", "/machine-config", { vcpu_count: "2", mem_size_mib: 128 }, /vcpu_count: must be integer/],
    [
      "PUT",
      "/actions",
      { action_type: "Reboot" },
      /must be one of "FlushMetrics", "InstanceStart", "SendCtrlAltDel"/,
    ],
    ["PUT", "/boot-source", { kernel_image_path: "/k", bootargs: "x" }, /unknown field "bootargs"/],
    ["PUT", "/vsock", { guest_cid: 2, uds_path: "/v.sock" }, /guest_cid: must be >= 3/],
    [
      "PUT",
      "/drives/a",
      { drive_id: "a", is_root_device: false, cache_type: "None" },
      /cache_type: must be one of/,
    ],
    ["PUT", "/boot-source", undefined, /needs a BootSource body/],
  ];
  for (const [method, path, body, re] of cases) {
    const errors = api.checkRequest(method, path, body).errors;
    assert.ok(
      errors.some((e) => re.test(e)),
      `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(errors)}`,
    );
  }
});

test("rejects paths and methods the API does not have, and ids that differ between path and body", {
  skip: noSpec,
}, () => {
  assert.match(
    api.checkRequest("POST", "/actions", { action_type: "InstanceStart" }).errors[0]!,
    /not an operation/,
  );
  assert.match(api.checkRequest("PUT", "/drive/rootfs", {}).errors[0]!, /not an operation/);
  const r = api.checkRequest("PUT", "/drives/rootfs", { drive_id: "other", is_root_device: true });
  assert.deepEqual(r.errors, ["The id from the path [rootfs] does not match the id from the body [other]!"]);
});

test("with closedObjects off, unknown fields pass as the swagger file alone allows", { skip: noSpec }, () => {
  const open = FirecrackerApi.load(FIRECRACKER_API_YAML, { closedObjects: false });
  assert.deepEqual(
    open.checkRequest("PUT", "/boot-source", { kernel_image_path: "/k", bootargs: "x" }).errors,
    [],
  );
});
