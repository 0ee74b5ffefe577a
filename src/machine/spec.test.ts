import assert from "node:assert/strict";
import { test } from "node:test";
import { isKilnError } from "../core/errors.js";
import { generateName, parseEnvVar, parsePortForward, parseVolume, validateName } from "./spec.js";

test("-p forms: HOST:GUEST binds 127.0.0.1; IP:HOST:GUEST/udp", () => {
  assert.deepEqual(parsePortForward("8080:80"), {
    hostIp: "127.0.0.1",
    hostPort: 8080,
    guestPort: 80,
    protocol: "tcp",
  });
  assert.deepEqual(parsePortForward("0.0.0.0:5353:53/udp"), {
    hostIp: "0.0.0.0",
    hostPort: 5353,
    guestPort: 53,
    protocol: "udp",
  });
});

test("-p errors name the value and the rule", () => {
  assert.throws(
    () => parsePortForward("8080"),
    (e) => isKilnError(e, "USAGE") && /8080 is not \[IP:\]HOST:GUEST/.test(e.message),
  );
  assert.throws(
    () => parsePortForward("70000:80"),
    (e) => isKilnError(e) && /"70000".*1 to 65535/.test(e.message),
  );
  assert.throws(
    () => parsePortForward("80:80/sctp"),
    (e) => isKilnError(e) && /tcp or udp/.test(e.message),
  );
});

test("-v SRC:DST[:ro] resolves SRC and numbers 9p tags", () => {
  assert.deepEqual(parseVolume("data:/data:ro", "/home/u", 1), {
    hostPath: "/home/u/data",
    guestPath: "/data",
    readonly: true,
    tag: "fs1",
  });
  assert.throws(
    () => parseVolume("data:rel", "/", 0),
    (e) => isKilnError(e) && /must be absolute/.test(e.message),
  );
  assert.throws(
    () => parseVolume("data", "/", 0),
    (e) => isKilnError(e) && /SRC:DST/.test(e.message),
  );
});

test("-v SRC:DST:tag=NAME chooses the 9p tag; options are comma-separated; a bad tag names the rule", () => {
  assert.deepEqual(parseVolume("./rootfs:/:tag=fs1", "/p", 0), {
    hostPath: "/p/rootfs",
    guestPath: "/",
    readonly: false,
    tag: "fs1",
    tagGiven: true,
  });
  assert.deepEqual(parseVolume("d:/d:ro,tag=data", "/p", 3), {
    hostPath: "/p/d",
    guestPath: "/d",
    readonly: true,
    tag: "data",
    tagGiven: true,
  });
  assert.throws(
    () => parseVolume("d:/d:tag=a,b", "/", 0),
    (e) => isKilnError(e, "USAGE") && /is not SRC:DST\[:ro\|rw\]\[,tag=NAME\]/.test(e.message),
  );
  assert.throws(
    () => parseVolume(`d:/d:tag=${"x".repeat(32)}`, "/", 0),
    (e) => isKilnError(e, "USAGE") && /9p tag "x{32}" .* is not 1 to 31 letters/.test(e.message),
  );
});

test("-e K=V, and -e K takes the host's value", () => {
  assert.deepEqual(parseEnvVar("A=b=c", {}), ["A", "b=c"]);
  assert.deepEqual(parseEnvVar("HOME", { HOME: "/root" }), ["HOME", "/root"]);
  assert.throws(
    () => parseEnvVar("1X=2", {}),
    (e) => isKilnError(e) && /"1X"/.test(e.message),
  );
});

test("names: generated adjective_noun, user names validated", () => {
  assert.match(generateName(), /^[a-z]+_[a-z]+$/);
  assert.equal(validateName("web-1"), "web-1");
  assert.throws(
    () => validateName("../x"),
    (e) => isKilnError(e, "INVALID_NAME"),
  );
});
