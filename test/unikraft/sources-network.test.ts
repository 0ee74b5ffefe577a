/**
 * `kiln fetch` when the network fails: each failure is said as what it is
 * (DNS, connection refused, HTTP status) with the URL, not as a missing
 * RELEASE tag of an empty cache, and no empty bare repository is left in
 * the cache. Local servers only: a port nobody listens on, an HTTP server
 * answering 404, and a `.invalid` host name (RFC 6761: never resolves).
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { isolatedEnv } from "./sources-fixtures.js";

function project(dir: string, url: string): string {
  const app = join(dir, "app");
  mkdirSync(app, { recursive: true });
  writeFileSync(
    join(app, "Kraftfile"),
    `spec: v0.6\nunikraft:\n  source: ${url}\n  version: stable\ntargets:\n  - qemu/x86_64\n`,
  );
  return app;
}

/** The git cache's entries (none may be an empty repository left by a failed fetch). */
function cacheEntries(home: string): string[] {
  const dir = join(home, "cache/sources/git");
  return existsSync(dir) ? readdirSync(dir) : [];
}

test("kiln fetch: refused, DNS and HTTP 404 are named with the URL; the cache stays empty", async (t) => {
  const dir = scratchDir(t);
  const server = createServer((_req, res) => {
    res.statusCode = 404;
    res.end("not here\n");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  // A port that was just free: nothing listens there.
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));

  const cases: [string, RegExp][] = [
    [
      `http://127.0.0.1:${closedPort}/unikraft.git`,
      new RegExp(`\\(connection refused by 127\\.0\\.0\\.1:${closedPort}\\)`),
    ],
    ["http://kiln-test.invalid/unikraft.git", /\(DNS: cannot resolve host kiln-test\.invalid\)/],
    [`http://127.0.0.1:${port}/unikraft.git`, /\(HTTP 404 Not Found: no git repository there\)/],
  ];
  for (const [url, reason] of cases) {
    const home = join(dir, `home-${cases.findIndex((c) => c[0] === url)}`);
    const r = await runKiln(["fetch", project(dir, url)], { env: isolatedEnv(home) });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /error: 1 source not found: unikraft stable/);
    assert.ok(r.stderr.includes(`tried: ${url} (`), r.stderr);
    assert.match(r.stderr, reason);
    assert.doesNotMatch(r.stderr, /RELEASE-x\.y\.z tag/, "not blamed on a missing tag");
    if (!reason.source.includes("HTTP")) assert.match(r.stderr, /hint: the network failed for these/);
    assert.deepEqual(cacheEntries(home), [], `no empty bare repository left for ${url}`);
    // A second try says the same (no empty cache entry now answers "no tags").
    const again = await runKiln(["fetch", project(dir, url)], { env: isolatedEnv(home) });
    assert.match(again.stderr, reason);
  }
});
