/**
 * Tarball sources (a path and an http:// URL served by a tiny server in the
 * test) and archives that libraries download at build time, seeded from a
 * mirror directory.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createReadStream, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { isKilnError } from "../../src/core/errors.js";
import { archiveNeeds, fetchProjectSources, seedArchives } from "../../src/unikraft/sources/index.js";
import { scratchDir } from "../helpers/kiln.js";
import { git, gitSource, isolatedEnv, makeProject, makeRepo } from "./sources-fixtures.js";

/** Serve files of `root` over HTTP on 127.0.0.1; returns the base URL and a request log. */
async function serve(
  t: TestContext,
  root: string,
): Promise<{ base: string; hits: string[]; server: Server }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? "");
    const file = join(root, decodeURIComponent((req.url ?? "/").split("?")[0]!));
    if (!file.startsWith(root) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200);
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => server.close());
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, server };
}

/** A tree `<top>/VERSION` packed as `archive` (compression from its name). */
function packTree(dir: string, top: string, version: string, archive: string): void {
  mkdirSync(join(dir, top), { recursive: true });
  writeFileSync(join(dir, top, "VERSION"), `${version}\n`);
  execFileSync("tar", ["-caf", archive, "-C", dir, top]);
}

test("tarball sources from a path and an http URL; top-level directory stripped; cached; locked", async (t) => {
  const tmp = scratchDir(t);
  const srv = join(tmp, "srv");
  mkdirSync(srv);
  packTree(join(tmp, "src1"), "unikraft-RELEASE-0.17.0", "core 0.17.0", join(tmp, "core.tar.gz"));
  packTree(join(tmp, "src2"), "lib-x-main", "lib x", join(srv, "lib-x.tar.xz"));
  const { base, server } = await serve(t, srv);
  const env = isolatedEnv(join(tmp, "home"));
  const project = makeProject(
    join(tmp, "app"),
    { type: "tarball", location: join(tmp, "core.tar.gz") },
    {
      x: { type: "tarball", location: `${base}/lib-x.tar.xz` },
    },
  );
  const f = await fetchProjectSources(project, { env });
  assert.equal(readFileSync(join(f.core.dir, "VERSION"), "utf8"), "core 0.17.0\n");
  assert.equal(readFileSync(join(project.dir, ".unikraft/libs/x/VERSION"), "utf8"), "lib x\n");
  assert.match(f.libraries[0]!.sha256 ?? "", /^[0-9a-f]{64}$/);

  // The URL is not needed again: the archive is cached.
  server.close();
  const again = await fetchProjectSources(project, { env, offline: true });
  assert.equal(again.libraries[0]!.sha256, f.libraries[0]!.sha256);

  // An archive that changed behind the lock's back is refused.
  packTree(join(tmp, "src3"), "unikraft-RELEASE-0.17.0", "tampered", join(tmp, "core.tar.gz"));
  await assert.rejects(fetchProjectSources(project, { env }), (e) => {
    assert.ok(isKilnError(e, "LOCK_MISMATCH"), String(e));
    assert.match(e.message, /core\.tar\.gz has SHA-256 [0-9a-f]{64}, but kiln\.lock pins/);
    return true;
  });
  assert.equal(readFileSync(join(f.core.dir, "VERSION"), "utf8"), "core 0.17.0\n");
  const updated = await fetchProjectSources(project, { env, update: true });
  assert.equal(readFileSync(join(updated.core.dir, "VERSION"), "utf8"), "tampered\n");
});

test("build-time archives: found in a mirror's archives/, cached, seeded where make expects them", async (t) => {
  const tmp = scratchDir(t);
  const lib = join(tmp, "lib-foo");
  mkdirSync(lib);
  // Offline runs never contact the upstream; were one to, port 9 is one fetch refuses ("bad port").
  writeFileSync(
    join(lib, "Makefile.uk"),
    [
      "$(eval $(call addlib_s,libfoo,$(CONFIG_LIBFOO)))",
      "LIBFOO_VERSION=1.0",
      "LIBFOO_URL=http://127.0.0.1:9/foo-$(LIBFOO_VERSION).tar.gz",
      "$(eval $(call fetch,libfoo,$(LIBFOO_URL)))",
      "",
    ].join("\n"),
  );
  const mirror = join(tmp, "mirror");
  mkdirSync(join(mirror, "archives"), { recursive: true });
  packTree(join(tmp, "foo"), "foo-1.0", "foo 1.0", join(mirror, "archives/foo-1.0.tar.gz"));
  const coreDir = join(tmp, "core");
  mkdirSync(coreDir);
  const env = isolatedEnv(join(tmp, "home"));
  const project = makeProject(
    join(tmp, "app"),
    { type: "directory", path: coreDir },
    {
      foo: { type: "directory", path: lib },
    },
  );

  // Without the mirror, offline: the archive is named with every place tried.
  await assert.rejects(fetchProjectSources(project, { env, offline: true }), (e) => {
    assert.ok(isKilnError(e, "SOURCES_MISSING"), String(e));
    assert.match(
      e.message,
      /archive foo-1\.0\.tar\.gz for libfoo \(http:\/\/127\.0\.0\.1:9\/foo-1\.0\.tar\.gz\)/,
    );
    assert.match(
      e.details.join("\n"),
      /tried: http:\/\/127\.0\.0\.1:9\/foo-1\.0\.tar\.gz \(upstream not contacted/,
    );
    return true;
  });

  const f = await fetchProjectSources(project, { env, offline: true, mirrors: [mirror] });
  assert.deepEqual(
    f.archives.map((a) => [a.lib, a.file]),
    [["libfoo", "foo-1.0.tar.gz"]],
  );
  assert.ok(f.archivesDir && existsSync(join(f.archivesDir, "foo-1.0.tar.gz")));

  // Seeding needs no mirror any more: the cache has it.
  const needs = await archiveNeeds(lib);
  const buildDir = join(tmp, "build");
  const seeded = await seedArchives(needs, buildDir, [], { env, offline: true });
  assert.equal(seeded[0]!.path, join(buildDir, "libfoo/foo-1.0.tar.gz"));
  assert.deepEqual(readFileSync(seeded[0]!.path), readFileSync(join(mirror, "archives/foo-1.0.tar.gz")));
});

test("a Debian .orig tarball in a mirror serves the upstream name; a wrong checksum is refused", async (t) => {
  const tmp = scratchDir(t);
  const mirror = join(tmp, "mirror");
  mkdirSync(mirror);
  packTree(join(tmp, "bar"), "bar-2.1", "bar", join(mirror, "bar_2.1.orig.tar.gz"));
  const env = isolatedEnv(join(tmp, "home"));
  const need = {
    lib: "libbar",
    url: "http://127.0.0.1:9/bar-2.1.tar.gz",
    altUrls: [],
    fileName: "bar-2.1.tar.gz",
  };
  const buildDir = join(tmp, "build");
  const [seeded] = await seedArchives([need], buildDir, [mirror], { env, offline: true });
  assert.deepEqual(readFileSync(seeded!.path), readFileSync(join(mirror, "bar_2.1.orig.tar.gz")));

  const wrong = {
    ...need,
    fileName: "bar-2.1.tar.gz",
    checksum: { algorithm: "sha256" as const, hex: "0".repeat(64) },
  };
  await assert.rejects(seedArchives([wrong], join(tmp, "build2"), [mirror], { env, offline: true }), (e) => {
    assert.ok(isKilnError(e, "SOURCES_MISSING"), String(e));
    assert.match(e.details.join("\n"), /bar_2\.1\.orig\.tar\.gz \(sha256 differs from LIBBAR_ORIGIN_\*\)/);
    return true;
  });
  assert.equal(existsSync(join(tmp, "build2/libbar/bar-2.1.tar.gz")), false);
});

test("an URL mirror: git over plain HTTP at <base>/<repo>.git, archives at <base>/archives/", async (t) => {
  const tmp = scratchDir(t);
  const www = join(tmp, "www");
  mkdirSync(join(www, "archives"), { recursive: true });
  makeRepo(join(tmp, "up/unikraft"), { releases: ["RELEASE-0.17.0"], files: { FROM: "http mirror\n" } });
  // A "dumb" HTTP git server is static files plus the info/refs index update-server-info writes.
  git(tmp, "clone", "-q", "--bare", join(tmp, "up/unikraft"), join(www, "unikraft.git"));
  git(join(www, "unikraft.git"), "update-server-info");
  const lib = join(tmp, "lib-foo");
  mkdirSync(lib);
  writeFileSync(join(lib, "Makefile.uk"), "$(eval $(call fetch,libfoo,http://127.0.0.1:9/foo-1.0.tar.gz))\n");
  packTree(join(tmp, "foo"), "foo-1.0", "foo", join(www, "archives/foo-1.0.tar.gz"));
  const { base, hits } = await serve(t, www);
  const project = makeProject(join(tmp, "app"), gitSource("https://example.invalid/unikraft", "stable"), {
    foo: { type: "directory", path: lib },
  });
  const env = { ...isolatedEnv(join(tmp, "home")), KILN_MIRRORS: base };
  const f = await fetchProjectSources(project, { env, offline: true });
  assert.equal(readFileSync(join(f.core.dir, "FROM"), "utf8"), "http mirror\n");
  assert.equal(f.core.resolvedRef, "RELEASE-0.17.0");
  assert.ok(
    hits.some((h) => h.startsWith("/unikraft.git/info/refs")),
    hits.join(" "),
  );
  assert.ok(hits.includes("/archives/foo-1.0.tar.gz"), hits.join(" "));
});
