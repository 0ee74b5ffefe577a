/**
 * Sources against real Unikraft repositories, offline, through a mirror
 * directory of symlinks (so the default GitHub URLs are never contacted):
 * - KILN_TEST_UNIKRAFT (a Unikraft checkout or bare repository with its
 *   release tags): `unikraft: stable` resolves to its newest RELEASE tag as
 *   git's own version sort orders them;
 * - plus KILN_TEST_LIB_MUSL (lib-musl, checkout or bare) and
 *   KILN_TEST_ARCHIVES (a directory holding musl's tarball, upstream or
 *   Debian `.orig` name): `musl: stable` resolves, its musl archive is
 *   served from the mirror, seeded where make wants it, and unpacks to the
 *   directory lib-musl's patches expect.
 * Skipped, with the reason, when the variables are unset.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fetchProjectSources, seedArchives } from "../../src/unikraft/sources/index.js";
import { scratchDir } from "../helpers/kiln.js";
import { gitSource, isolatedEnv, makeProject } from "./sources-fixtures.js";

const TREE = process.env.KILN_TEST_UNIKRAFT;
const MUSL = process.env.KILN_TEST_LIB_MUSL;
const ARCHIVES = process.env.KILN_TEST_ARCHIVES;

/** A mirror directory at `dir` whose entries (`unikraft.git`, `archives`…) are symlinks to the real ones. */
function symlinkMirror(dir: string, entries: Record<string, string>): string {
  mkdirSync(dir);
  for (const [name, target] of Object.entries(entries)) symlinkSync(target, join(dir, name));
  return dir;
}

test("real Unikraft: stable is the newest release, fetched offline from a mirror", {
  skip: TREE ? false : "KILN_TEST_UNIKRAFT is unset (point it at a Unikraft checkout)",
}, async (t) => {
  const started = Date.now();
  const tmp = scratchDir(t);
  const mirror = symlinkMirror(join(tmp, "mirror"), { "unikraft.git": TREE! });
  const newest = execFileSync("git", ["tag", "-l", "RELEASE-*", "--sort=-v:refname"], {
    cwd: TREE!,
    encoding: "utf8",
  }).split("\n")[0];
  const project = makeProject(join(tmp, "app"), gitSource("https://github.com/unikraft/unikraft", "stable"));
  const f = await fetchProjectSources(project, {
    env: isolatedEnv(join(tmp, "home")),
    offline: true,
    mirrors: [mirror],
  });
  assert.equal(f.core.resolvedRef, newest);
  assert.equal(
    execFileSync("git", ["rev-parse", "HEAD"], { cwd: f.core.dir, encoding: "utf8" }).trim(),
    execFileSync("git", ["rev-parse", `${newest}^{commit}`], { cwd: TREE!, encoding: "utf8" }).trim(),
  );
  t.diagnostic(`took ${Date.now() - started} ms`);
});

test("real lib-musl: its musl archive comes from a mirror directory and is seeded for make", {
  skip:
    TREE && MUSL && ARCHIVES
      ? false
      : "needs KILN_TEST_UNIKRAFT, KILN_TEST_LIB_MUSL and KILN_TEST_ARCHIVES (a directory with musl's tarball)",
}, async (t) => {
  const started = Date.now();
  const tmp = scratchDir(t);
  const mirror = symlinkMirror(join(tmp, "mirror"), {
    "unikraft.git": TREE!,
    "lib-musl.git": MUSL!,
    archives: ARCHIVES!,
  });
  const project = makeProject(join(tmp, "app"), gitSource("https://github.com/unikraft/unikraft", "stable"), {
    musl: gitSource("https://github.com/unikraft/lib-musl", "stable"),
  });
  const env = isolatedEnv(join(tmp, "home"));
  const f = await fetchProjectSources(project, { env, offline: true, mirrors: [mirror] });
  assert.match(f.libraries[0]!.resolvedRef ?? "", /^RELEASE-\d+\.\d+\.\d+$/);
  const musl = f.archives.find((a) => a.lib === "libmusl");
  assert.ok(musl, "lib-musl's Makefile.uk fetches an archive");
  const needs = [{ lib: musl.lib, url: musl.url, altUrls: [], fileName: musl.file }];
  const [seeded] = await seedArchives(needs, join(tmp, "build"), [], { env, offline: true });
  assert.equal(seeded!.path, join(tmp, "build/libmusl", musl.file));
  // lib-musl patches `origin/musl-$(LIBMUSL_VERSION)`: the archive's top directory.
  const top = execFileSync("tar", ["-tzf", seeded!.path], { encoding: "utf8" }).split("\n")[0];
  assert.equal(top, `${musl.file.replace(/\.tar\.gz$/, "")}/`);
  t.diagnostic(`took ${Date.now() - started} ms`);
});
