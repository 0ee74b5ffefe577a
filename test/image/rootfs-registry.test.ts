/**
 * Pull from a real registry: Debian's `docker-registry` on 127.0.0.1, an
 * image pushed with `skopeo copy` from an OCI layout made by the test, then
 * `kiln rootfs build docker://…`. Also: bearer-token auth (a token-checking
 * front in the test, as public registries' token services do), digest
 * verification (a blob corrupted in the registry's storage) and the cache.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { which } from "../../src/core/exec.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { debugfs, makeOciLayout } from "./rootfs-helpers.js";

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

async function startRegistry(dir: string): Promise<{ port: number; proc: ChildProcess; storage: string }> {
  const port = await freePort();
  const storage = join(dir, "storage");
  const config = join(dir, "registry.yml");
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: error",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${storage}`,
      "http:",
      `  addr: 127.0.0.1:${port}`,
      "",
    ].join("\n"),
  );
  const proc = spawn("docker-registry", ["serve", config], { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { port, proc, storage };
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill();
  throw new Error("docker-registry did not start");
}

const missing = ["docker-registry", "skopeo", "mkfs.ext4"].filter((t) => !which(t));

test("docker://127.0.0.1:PORT/test/img:1 → ext4, with token auth, digest checks and the blob cache", {
  skip: missing.length ? `missing ${missing.join(", ")}` : false,
}, async (t) => {
  const started = Date.now();
  const dir = scratchDir(t);
  const { port, proc, storage } = await startRegistry(dir);
  t.after(() => proc.kill());
  const layout = join(dir, "layout");
  await makeOciLayout(layout, [
    [
      { name: "etc/", type: "directory" },
      { name: "etc/os-release", content: "ID=kiln-test\n" },
      { name: "etc/old", content: "whited out\n" },
    ],
    [
      { name: "etc/.wh.old", content: "" },
      { name: "bin/", type: "directory" },
      { name: "bin/hello", content: "#!/bin/sh\necho hello\n", mode: 0o755 },
    ],
  ]);
  const ref = `127.0.0.1:${port}/test/img:1`;
  execFileSync("skopeo", ["copy", "--dest-tls-verify=false", `oci:${layout}:1`, `docker://${ref}`], {
    stdio: "pipe",
  });

  const home = join(dir, "home");
  const out = join(dir, "img.ext4");
  const r = await runKiln(["rootfs", "build", `docker://${ref}`, "-o", out, "--json"], {
    env: { KILN_HOME: home },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).sourceKind, "registry");
  assert.equal(debugfs(out, "cat /etc/os-release"), "ID=kiln-test\n");
  assert.equal(debugfs(out, "cat /bin/hello"), "#!/bin/sh\necho hello\n");
  assert.doesNotMatch(debugfs(out, "ls /etc"), /\bold\b/);
  const layoutManifest = JSON.parse(
    readFileSync(
      join(
        layout,
        "blobs/sha256",
        JSON.parse(readFileSync(join(layout, "index.json"), "utf8")).manifests[0].digest.slice(7),
      ),
      "utf8",
    ),
  ) as { layers: { digest: string }[] };
  const cached = readdirSync(join(home, "cache", "blobs", "sha256"));
  for (const l of layoutManifest.layers)
    assert.ok(cached.includes(l.digest.slice(7)), `layer ${l.digest} cached`);

  // Bearer-token auth: a front that demands a token from its /token endpoint, as registries behind auth do.
  const token = "kiln-test-token";
  let tokenRequests = 0;
  const front = createServer((req, res) => {
    if (req.url?.startsWith("/token")) {
      tokenRequests++;
      const u = new URL(req.url, "http://x");
      assert.equal(u.searchParams.get("scope"), "repository:test/img:pull");
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ token }));
      return;
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.statusCode = 401;
      const addr = front.address() as AddressInfo;
      res.setHeader(
        "www-authenticate",
        `Bearer realm="http://127.0.0.1:${addr.port}/token",service="kiln-test",scope="repository:test/img:pull"`,
      );
      res.end();
      return;
    }
    const up = request(
      { host: "127.0.0.1", port, path: req.url, method: req.method, headers: req.headers },
      (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      },
    );
    req.pipe(up);
  });
  await new Promise<void>((res) => front.listen(0, "127.0.0.1", res));
  t.after(() => front.close());
  const frontPort = (front.address() as AddressInfo).port;
  const authed = join(dir, "authed.ext4");
  const ra = await runKiln(["rootfs", "build", `docker://127.0.0.1:${frontPort}/test/img:1`, "-o", authed], {
    env: { KILN_HOME: join(dir, "home2") },
  });
  assert.equal(ra.code, 0, ra.stderr);
  assert.equal(tokenRequests, 1);
  assert.equal(debugfs(authed, "cat /etc/os-release"), "ID=kiln-test\n");

  // A blob the registry serves with other content is refused, naming its digest; nothing is cached or written.
  const blobsDir = join(storage, "docker/registry/v2/blobs/sha256");
  const layerHex = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")).manifests[0].digest.slice(7);
  const manifest = JSON.parse(readFileSync(join(layout, "blobs/sha256", layerHex), "utf8"));
  const victim = (manifest.layers[1].digest as string).slice(7);
  writeFileSync(join(blobsDir, victim.slice(0, 2), victim, "data"), "tampered");
  const bad = join(dir, "bad.ext4");
  const rb = await runKiln(["rootfs", "build", `docker://${ref}`, "-o", bad], {
    env: { KILN_HOME: join(dir, "home3") },
  });
  assert.equal(rb.code, 1);
  assert.match(rb.stderr, new RegExp(`blob sha256:${victim} downloaded with digest sha256:[0-9a-f]{64}`));
  assert.ok(!existsSync(bad));
  assert.ok(!existsSync(join(dir, "home3", "cache", "blobs", "sha256", victim)));

  // The first home's cache still has the good blob, so a rebuild from it needs no blob download.
  const again = await runKiln(["rootfs", "build", `docker://${ref}`, "-o", join(dir, "again.ext4")], {
    env: { KILN_HOME: home },
  });
  assert.equal(again.code, 0, again.stderr);

  const nf = await runKiln([
    "rootfs",
    "build",
    `docker://127.0.0.1:${port}/test/img:nope`,
    "-o",
    join(dir, "nf.ext4"),
  ]);
  assert.equal(nf.code, 1);
  assert.match(nf.stderr, /127\.0\.0\.1:\d+\/test\/img: no image "nope" \(HTTP 404\)/);
  // Offline: with the registry gone, the cached manifest and blobs still build the image.
  proc.kill();
  await new Promise((r) => proc.once("close", r));
  const offline = join(dir, "offline.ext4");
  const off = await runKiln(["rootfs", "build", `docker://${ref}`, "-o", offline], {
    env: { KILN_HOME: home },
  });
  assert.equal(off.code, 0, off.stderr);
  assert.match(off.stderr, /cannot reach registry .*; using the cached manifest sha256:[0-9a-f]{64}/);
  assert.equal(debugfs(offline, "cat /bin/hello"), "#!/bin/sh\necho hello\n");

  // Unknown tags and unreachable registries are clear errors.
  const down = await runKiln([
    "rootfs",
    "build",
    `docker://127.0.0.1:${await freePort()}/x:1`,
    "-o",
    join(dir, "d.ext4"),
  ]);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /cannot reach registry 127\.0\.0\.1:\d+ .*ECONNREFUSED/);
  t.diagnostic(`registry test took ${Date.now() - started} ms`);
});
