/**
 * A registry over HTTPS with a self-signed certificate (made with openssl):
 * Kiln refuses it with a TLS error naming the host and the two fixes, pushes
 * with `--insecure`, and pulls with verification once the CA is given the
 * documented ways (containers' certs.d directory, NODE_EXTRA_CA_CERTS); the
 * bundled CLI does the same when it is built. A plain-HTTP registry on a
 * non-loopback address needs --insecure.
 * A registry that is not listening is an "unreachable" error.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { which } from "../../src/core/exec.js";
import { REPO_ROOT, runKiln, scratchDir } from "../helpers/kiln.js";
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
  // The bundled CLI (bin/kiln.js → dist/bundle) too: it loads undici for --insecure and tar-stream
  // for packaging through esbuild's CommonJS interop, which tests run from source do not exercise.
  if (existsSync(join(REPO_ROOT, "dist/bundle/main.js"))) {
    const bundled = (args: string[], home: string) =>
      spawnSync(process.execPath, [join(REPO_ROOT, "bin/kiln.js"), ...args], {
        env: { ...process.env, NO_COLOR: "1", KILN_HOME: home, XDG_CONFIG_HOME: join(dir, "noconfig") },
        encoding: "utf8",
      });
    const h5 = join(dir, "h5");
    const packed = bundled(["pkg", "--kernel", kernel, "--name", `${reg.host}/secure/bundled:1`], h5);
    assert.equal(packed.status, 0, packed.stderr);
    const pushed = bundled(["pkg", "push", `${reg.host}/secure/bundled:1`, "--insecure"], h5);
    assert.equal(pushed.status, 0, pushed.stderr);
    const pulled = bundled(["pkg", "pull", ref, "--insecure"], join(dir, "h6"));
    assert.equal(pulled.status, 0, pulled.stderr);
  } else t.diagnostic("dist/bundle is missing: the bundled CLI's steps were skipped (npm run build)");
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

/** A non-loopback IPv4 address of this machine, if it has one. */
const externalIp = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === "IPv4" && !a.internal)?.address;

test("a plain-HTTP registry on a non-loopback address needs --insecure (plain HTTP only for localhost/127.0.0.1)", {
  skip: skip || (externalIp ? false : "no non-loopback IPv4 address on this machine"),
}, async (t) => {
  const dir = scratchDir(t);
  const reg = await startRegistry(join(dir, "reg"), { ip: externalIp! });
  t.after(() => reg.stop());
  const kernel = buildMultibootStandin(dir);
  const ref = `${reg.host}/plain/mb:1`;
  const env = { KILN_HOME: join(dir, "h1") };
  assert.equal((await runKiln(["pkg", "--kernel", kernel, "--name", ref], { env })).code, 0);
  const refused = await runKiln(["pkg", "push", ref, "--json"], { env });
  assert.equal(refused.code, 1);
  const e = JSON.parse(refused.stdout).error as { code: string; message: string; hint: string };
  assert.equal(e.code, "REGISTRY_TLS");
  assert.match(e.message, /does not speak TLS: it answered the HTTPS handshake in plain HTTP/);
  assert.match(e.hint, /pass --insecure to use plain HTTP with \S+:\d+/);
  const push = await runKiln(["pkg", "push", ref, "--insecure"], { env });
  assert.equal(push.code, 0, push.stderr);
  const pull = await runKiln(["pkg", "pull", ref, "--insecure"], { env: { KILN_HOME: join(dir, "h2") } });
  assert.equal(pull.code, 0, pull.stderr);
});
