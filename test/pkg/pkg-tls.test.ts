/**
 * A registry over HTTPS with a self-signed certificate (made with openssl):
 * Kiln refuses it with a TLS error naming the host and the two fixes, pushes
 * with `--insecure`, and pulls with verification once the CA is given the
 * documented ways (containers' certs.d directory, NODE_EXTRA_CA_CERTS).
 * A registry that is not listening is an "unreachable" error.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { which } from "../../src/core/exec.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { freePort, startRegistry } from "../helpers/registry.js";
import { buildMultibootStandin } from "../machine/guests.js";

const missing = ["docker-registry", "openssl", "gcc"].filter((t) => !which(t));
const skip = missing.length ? `missing ${missing.join(", ")}` : false;

test("TLS: a self-signed registry is refused with a clear error, accepted with --insecure or with its CA in certs.d or NODE_EXTRA_CA_CERTS", {
  skip,
}, async (t) => {
  const started = Date.now();
  const dir = scratchDir(t);
  const cert = join(dir, "registry.crt");
  const key = join(dir, "registry.key");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2"].concat([
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ]),
    { stdio: "ignore" },
  );
  const reg = await startRegistry(join(dir, "reg"), { tls: { certificate: cert, key } });
  t.after(() => reg.stop());
  const kernel = buildMultibootStandin(dir);
  const ref = `${reg.host}/secure/mb:1`;
  // An empty XDG config: no certs.d from the user running the tests.
  const home = { KILN_HOME: join(dir, "h1"), XDG_CONFIG_HOME: join(dir, "noconfig") };
  assert.equal((await runKiln(["pkg", "--kernel", kernel, "--name", ref], { env: home })).code, 0);

  const refused = await runKiln(["pkg", "push", ref, "--json"], { env: home });
  assert.equal(refused.code, 1);
  const e = JSON.parse(refused.stdout).error as { code: string; message: string; hint: string };
  assert.equal(e.code, "REGISTRY_TLS");
  assert.match(
    e.message,
    /^TLS with registry 127\.0\.0\.1:\d+ \(https:\/\/127\.0\.0\.1:\d+\/v2\/secure\/mb\/\S+\) failed: .*self.signed/i,
  );
  assert.match(
    e.hint,
    /containers\/certs\.d\/127\.0\.0\.1:\d+\/ca\.crt .*NODE_EXTRA_CA_CERTS.*--insecure skips verification/,
  );

  const insecure = await runKiln(["pkg", "push", ref, "--insecure"], { env: home });
  assert.equal(insecure.code, 0, insecure.stderr);

  // The CA in containers' certs.d layout (as skopeo and podman read it): verified, no --insecure.
  const config = join(dir, "config");
  mkdirSync(join(config, "containers/certs.d", reg.host), { recursive: true });
  copyFileSync(cert, join(config, "containers/certs.d", reg.host, "ca.crt"));
  const viaCertsD = await runKiln(["pkg", "pull", ref], {
    env: { KILN_HOME: join(dir, "h2"), XDG_CONFIG_HOME: config },
  });
  assert.equal(viaCertsD.code, 0, viaCertsD.stderr);
  const ls = await runKiln(["pkg", "ls", "--json"], { env: { KILN_HOME: join(dir, "h2") } });
  assert.deepEqual(
    (JSON.parse(ls.stdout) as { ref: string }[]).map((p) => p.ref),
    [ref],
  );
  // Node's own NODE_EXTRA_CA_CERTS.
  const viaNode = await runKiln(["pkg", "pull", ref], {
    env: { ...home, KILN_HOME: join(dir, "h3"), NODE_EXTRA_CA_CERTS: cert },
  });
  assert.equal(viaNode.code, 0, viaNode.stderr);
  console.log(`TLS test: ${Date.now() - started} ms`);
});

test("a registry that is not listening is REGISTRY_UNREACHABLE naming it", { skip }, async (t) => {
  const dir = scratchDir(t);
  const port = await freePort();
  const r = await runKiln(["pkg", "pull", `127.0.0.1:${port}/none/x:1`, "--json"], {
    env: { KILN_HOME: join(dir, "h") },
  });
  assert.equal(r.code, 1);
  const e = JSON.parse(r.stdout).error as { code: string; message: string; hint: string };
  assert.equal(e.code, "REGISTRY_UNREACHABLE");
  assert.match(
    e.message,
    new RegExp(
      `^cannot reach registry 127\\.0\\.0\\.1:${port} \\(http://127\\.0\\.0\\.1:${port}/v2/none/x/manifests/1\\): ECONNREFUSED`,
    ),
  );
  assert.match(e.hint, /is the registry running/);
});
