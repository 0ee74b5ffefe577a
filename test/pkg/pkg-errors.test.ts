/**
 * Registry answers a user must understand, from a real docker-registry: a
 * container image pulled as a package (the wrong kind: refused before its
 * layers are downloaded, by `kiln pkg pull` and by `kiln run REF`), and a
 * push to a registry in read-only mode (HTTP 405). 401, 403, 404, TLS and an
 * unreachable registry are checked in pkg-registry, pkg-auth and pkg-tls.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { which } from "../../src/core/exec.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { startRegistry } from "../helpers/registry.js";
import { buildMultibootStandin } from "../machine/guests.js";

const missing = ["docker-registry", "skopeo", "umoci", "gcc"].filter((t) => !which(t));
const skip = missing.length ? `missing ${missing.join(", ")}` : false;

test("a container image is the wrong kind: pull and run refuse it before downloading its layers", {
  skip,
}, async (t) => {
  const dir = scratchDir(t);
  const reg = await startRegistry(join(dir, "reg"));
  t.after(() => reg.stop());
  // A container image as umoci makes one: os linux, a root filesystem layer, no kernel.
  const layout = join(dir, "L");
  const umoci = (...args: string[]) => execFileSync("umoci", args, { stdio: "pipe" });
  umoci("init", "--layout", layout);
  umoci("new", "--image", `${layout}:1`);
  const osRelease = join(dir, "os-release");
  writeFileSync(osRelease, "ID=kiln-test\n");
  umoci("insert", "--rootless", "--image", `${layout}:1`, osRelease, "/etc/os-release");
  umoci("config", "--image", `${layout}:1`, "--os", "linux", "--architecture", "amd64");
  const ref = `${reg.host}/containers/app:1`;
  execFileSync("skopeo", ["copy", "--dest-tls-verify=false", `oci:${layout}:1`, `docker://${ref}`], {
    stdio: "pipe",
  });
  const home = join(dir, "h");
  const pull = await runKiln(["pkg", "pull", ref, "--json"], { env: { KILN_HOME: home } });
  assert.equal(pull.code, 1);
  const e = JSON.parse(pull.stdout).error as { code: string; message: string; hint: string };
  assert.equal(e.code, "PKG_WRONG_KIND");
  assert.match(
    e.message,
    /containers\/app:1: sha256:[0-9a-f]{64} is a container image \(os "linux", no kernel layer\), not a unikernel or microVM package/,
  );
  assert.match(e.hint, /kiln rootfs build docker:\/\/127\.0\.0\.1:\d+\/containers\/app:1/);
  const ls = await runKiln(["pkg", "ls", "--json"], { env: { KILN_HOME: home } });
  assert.deepEqual(JSON.parse(ls.stdout), []);
  // Only the small config entered the store: no layer, no partial download.
  const layers = (
    JSON.parse(
      execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`], {
        encoding: "utf8",
      }),
    ) as { layers: { digest: string }[] }
  ).layers;
  const blobs = readdirSync(join(home, "data/oci/blobs/sha256"));
  for (const l of layers) assert.ok(!blobs.includes(l.digest.slice(7)), `layer ${l.digest} was downloaded`);

  const run = await runKiln(["run", "-W", "--rm", ref], { env: { KILN_HOME: join(dir, "h2") } });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /is a container image \(os "linux", no kernel layer\)/);
});

test("a push to a read-only registry is a clear error (HTTP 405, the methods allowed named)", {
  skip,
}, async (t) => {
  const dir = scratchDir(t);
  const reg = await startRegistry(join(dir, "reg"), { readOnly: true });
  t.after(() => reg.stop());
  const kernel = buildMultibootStandin(dir);
  const ref = `${reg.host}/ro/mb:1`;
  const env = { KILN_HOME: join(dir, "h") };
  assert.equal((await runKiln(["pkg", "--kernel", kernel, "--name", ref], { env })).code, 0);
  const push = await runKiln(["pkg", "push", ref, "--json"], { env });
  assert.equal(push.code, 1);
  const e = JSON.parse(push.stdout).error as { code: string; message: string; hint: string };
  assert.equal(e.code, "REGISTRY_HTTP");
  assert.match(
    e.message,
    /^127\.0\.0\.1:\d+\/ro\/mb: POST blobs\/uploads\/ answered HTTP 405 \(allowed: GET, HEAD\)$/,
  );
  assert.match(e.hint, /read-only/);
});
