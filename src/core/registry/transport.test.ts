import assert from "node:assert/strict";
import { test } from "node:test";
import { certsDirs, registryEndpoints } from "./transport.js";

test("plain HTTP only for loopback registries (when they speak no TLS) or with --insecure; others HTTPS, verified", () => {
  assert.deepEqual(registryEndpoints("reg.example.test"), [
    { base: "https://reg.example.test", verify: true },
  ]);
  assert.deepEqual(registryEndpoints("192.0.2.7:5000"), [{ base: "https://192.0.2.7:5000", verify: true }]);
  for (const host of ["127.0.0.1:5000", "localhost:5000", "[::1]:5000", "localhost"]) {
    assert.deepEqual(registryEndpoints(host), [
      { base: `https://${host}`, verify: true, fallbackOn: "not-tls" },
      { base: `http://${host}`, verify: false },
    ]);
  }
  assert.deepEqual(registryEndpoints("reg.example:5000", true), [
    { base: "https://reg.example:5000", verify: false, fallbackOn: "tls" },
    { base: "http://reg.example:5000", verify: false },
  ]);
});

test("CA directories: the user's containers certs.d, then the system's containers and docker ones", () => {
  assert.deepEqual(certsDirs({ HOME: "/home/u" }), [
    "/home/u/.config/containers/certs.d",
    "/etc/containers/certs.d",
    "/etc/docker/certs.d",
  ]);
  assert.equal(certsDirs({ XDG_CONFIG_HOME: "/x", HOME: "/home/u" })[0], "/x/containers/certs.d");
});
