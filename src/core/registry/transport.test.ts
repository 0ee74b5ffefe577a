import assert from "node:assert/strict";
import { test } from "node:test";
import { certsDirs, isTlsServerAnswer, registryEndpoints } from "./transport.js";

test("plain HTTP only for loopback registries (HTTPS, verified, when they speak TLS) or with --insecure; others HTTPS, verified", () => {
  assert.deepEqual(registryEndpoints("reg.example.test"), [
    { base: "https://reg.example.test", verify: true },
  ]);
  assert.deepEqual(registryEndpoints("192.0.2.7:5000"), [{ base: "https://192.0.2.7:5000", verify: true }]);
  for (const host of ["127.0.0.1:5000", "localhost:5000", "[::1]:5000", "localhost"]) {
    assert.deepEqual(registryEndpoints(host), [
      { base: `http://${host}`, verify: false, fallbackOn: "tls-server" },
      { base: `https://${host}`, verify: true },
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

test("a plain-HTTP request to a TLS port is recognized by the server's answer", () => {
  // docker-registry (Go net/http) and nginx answer these.
  assert.equal(isTlsServerAnswer(400, "Client sent an HTTP request to an HTTPS server.\n"), true);
  assert.equal(isTlsServerAnswer(400, "The plain HTTP request was sent to HTTPS port"), true);
  assert.equal(isTlsServerAnswer(400, '{"errors":[{"code":"NAME_INVALID"}]}'), false);
  assert.equal(isTlsServerAnswer(404, "HTTPS"), false);
});
