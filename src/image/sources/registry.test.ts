import assert from "node:assert/strict";
import { test } from "node:test";
import { isKilnError } from "../../core/errors.js";
import { parsePlatform, selectManifest } from "./oci-manifest.js";
import { parseBearerChallenge, parseImageReference, registryBaseUrl } from "./registry.js";
import { parseSourceSpec } from "./spec.js";

test("image references are split as Docker does", () => {
  assert.deepEqual(parseImageReference("127.0.0.1:5000/test/img:1"), {
    registry: "127.0.0.1:5000",
    repository: "test/img",
    reference: "1",
  });
  assert.deepEqual(parseImageReference("127.0.0.1:5000/test/img"), {
    registry: "127.0.0.1:5000",
    repository: "test/img",
    reference: "latest",
  });
  // No public registry is implied: a name without a host takes KILN_REGISTRY's, or is refused.
  assert.deepEqual(parseImageReference("alpine:3", "127.0.0.1:5000"), {
    registry: "127.0.0.1:5000",
    repository: "alpine",
    reference: "3",
  });
  assert.deepEqual(parseImageReference("library/alpine:3", "reg.example.test"), {
    registry: "reg.example.test",
    repository: "library/alpine",
    reference: "3",
  });
  assert.throws(
    () => parseImageReference("library/alpine:3"),
    (e) =>
      isKilnError(e, "NO_REGISTRY") &&
      e.message === 'image reference "library/alpine:3" names no registry host' &&
      /docker:\/\/127\.0\.0\.1:5000\/library\/alpine:3, or set KILN_REGISTRY/.test(e.hint ?? ""),
  );
  assert.deepEqual(parseImageReference("localhost/app"), {
    registry: "localhost",
    repository: "app",
    reference: "latest",
  });
  const digest = `sha256:${"a".repeat(64)}`;
  assert.equal(parseImageReference(`reg.example.test/o/r@${digest}`).reference, digest);
  for (const bad of ["UPPER/case", "a//b", "x:", ""]) {
    assert.throws(
      () => parseImageReference(bad),
      (e) => isKilnError(e, "BAD_REFERENCE"),
      bad,
    );
  }
});

test("loopback registries are spoken to over plain HTTP, others over HTTPS unless insecure", () => {
  assert.equal(registryBaseUrl("127.0.0.1:5000"), "http://127.0.0.1:5000");
  assert.equal(registryBaseUrl("localhost:5000"), "http://localhost:5000");
  assert.equal(registryBaseUrl("reg.example.test"), "https://reg.example.test");
  assert.equal(registryBaseUrl("reg.example:5000", true), "http://reg.example:5000");
});

test("bearer challenges are parsed", () => {
  assert.deepEqual(
    parseBearerChallenge(
      'Bearer realm="https://auth.example.test/token",service="reg.example.test",scope="repository:test/img:pull"',
    ),
    {
      realm: "https://auth.example.test/token",
      service: "reg.example.test",
      scope: "repository:test/img:pull",
    },
  );
  assert.equal(parseBearerChallenge('Basic realm="x"'), undefined);
});

test("platforms are chosen from an index; a missing one lists what exists", () => {
  const manifests = [
    { digest: "sha256:1", platform: { os: "linux", architecture: "arm64", variant: "v8" } },
    { digest: "sha256:2", platform: { os: "linux", architecture: "amd64" } },
    { digest: "sha256:3", platform: { os: "unknown", architecture: "unknown" } },
  ];
  assert.equal(selectManifest(manifests, parsePlatform("linux/amd64"), "idx").digest, "sha256:2");
  assert.equal(selectManifest(manifests, parsePlatform("linux/arm64"), "idx").digest, "sha256:1");
  assert.throws(
    () => selectManifest(manifests, parsePlatform("linux/riscv64"), "idx"),
    (e) =>
      isKilnError(e, "ROOTFS_NO_PLATFORM") && /available: linux\/arm64\/v8, linux\/amd64;/.test(e.hint ?? ""),
  );
  assert.throws(
    () => parsePlatform("amd64"),
    (e) => isKilnError(e, "ROOTFS_BAD_PLATFORM"),
  );
});

test("source specs: docker://, debian:, ubuntu:, paths", () => {
  assert.deepEqual(parseSourceSpec("docker://alpine:3"), { kind: "registry", ref: "alpine:3" });
  assert.deepEqual(parseSourceSpec("debian:bookworm"), {
    kind: "debian",
    distro: "debian",
    suite: "bookworm",
  });
  assert.deepEqual(parseSourceSpec("ubuntu:jammy"), { kind: "debian", distro: "ubuntu", suite: "jammy" });
  assert.deepEqual(parseSourceSpec("./rootfs"), { kind: "path", path: "./rootfs" });
  assert.throws(
    () => parseSourceSpec("debian:Book Worm"),
    (e) => isKilnError(e, "ROOTFS_BAD_SOURCE"),
  );
});
