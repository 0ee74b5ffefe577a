import assert from "node:assert/strict";
import { test } from "node:test";
import { isUrl, resolveSourceString, splitUrlVersion } from "./sources.js";

test("splitUrlVersion: @ref after the host, and branch/tag/version query parameters", () => {
  assert.deepEqual(splitUrlVersion("https://github.com/unikraft/unikraft.git@v0.17.0"), {
    url: "https://github.com/unikraft/unikraft.git",
    version: "v0.17.0",
  });
  assert.deepEqual(splitUrlVersion("https://user@example.org/repo.git"), {
    url: "https://user@example.org/repo.git",
  });
  assert.deepEqual(splitUrlVersion("git@github.com:unikraft/lib-musl.git"), {
    url: "git@github.com:unikraft/lib-musl.git",
  });
  assert.deepEqual(splitUrlVersion("git@github.com:unikraft/lib-musl.git@stable"), {
    url: "git@github.com:unikraft/lib-musl.git",
    version: "stable",
  });
  assert.deepEqual(splitUrlVersion("https://example.org/r.git?branch=dev"), {
    url: "https://example.org/r.git",
    version: "dev",
  });
  assert.deepEqual(splitUrlVersion("https://example.org/r.git?tag=t&version=t"), {
    url: "https://example.org/r.git",
    version: "t",
  });
  // Two different versions are a conflict, listed as written (tag before version, then @ref).
  assert.deepEqual(splitUrlVersion("https://example.org/r.git?version=1&tag=t").conflict, [
    "?tag=t",
    "?version=1",
  ]);
  assert.deepEqual(splitUrlVersion("https://github.com/unikraft/lib-e.git@v2?branch=main").conflict, [
    "?branch=main",
    "@v2",
  ]);
});

test("resolveSourceString: directories, archives and URLs; anything else is an error", () => {
  const dirs = new Set(["/proj/vendor/unikraft"]);
  const isDir = (p: string) => dirs.has(p);
  assert.deepEqual(resolveSourceString("./vendor/unikraft", "/proj", isDir), {
    ok: true,
    source: { type: "directory", path: "/proj/vendor/unikraft" },
  });
  assert.deepEqual(resolveSourceString("../unikraft-0.17.tar.gz", "/proj", isDir), {
    ok: true,
    source: { type: "tarball", location: "/unikraft-0.17.tar.gz" },
  });
  assert.deepEqual(resolveSourceString("https://example.org/u.tar.gz", "/proj", isDir), {
    ok: true,
    source: { type: "tarball", location: "https://example.org/u.tar.gz" },
  });
  assert.deepEqual(resolveSourceString("https://github.com/unikraft/unikraft.git", "/proj", isDir), {
    ok: true,
    source: { type: "git", url: "https://github.com/unikraft/unikraft.git", version: "stable" },
  });
  const twice = resolveSourceString("https://example.org/e.git@v2?branch=main", "/proj", isDir);
  assert.ok(!twice.ok && twice.code === "conflicting-version");
  assert.match(twice.message, /names two versions: `\?branch=main` and `@v2`/);
  const bad = resolveSourceString("./missing", "/proj", isDir);
  assert.equal(bad.ok, false);
  assert.ok(!bad.ok && bad.message.includes("/proj/missing"));
  assert.equal(isUrl("stable"), false);
  assert.equal(isUrl("file:///srv/unikraft"), false);
});
