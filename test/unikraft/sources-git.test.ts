/**
 * Git sources end to end against real local repositories: version
 * resolution, placement in `.unikraft/`, the cache, mirrors, offline mode and
 * the lock file.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { isKilnError } from "../../src/core/errors.js";
import { collectingReporter } from "../../src/core/output.js";
import { fetchProjectSources } from "../../src/unikraft/sources/index.js";
import { scratchDir } from "../helpers/kiln.js";
import { commit, git, gitSource, isolatedEnv, makeProject, makeRepo } from "./sources-fixtures.js";

const read = (dir: string, file = "VERSION") => readFileSync(join(dir, file), "utf8").trim();

test("stable is a set: the newest release line the core and every library have, one notice naming it and why", async (t) => {
  const tmp = scratchDir(t);
  // As app-sqlite met them: the core has 0.17, lib-musl and lib-sqlite lag at 0.16.
  makeRepo(join(tmp, "up/unikraft"), {
    releases: ["RELEASE-0.15.0", "RELEASE-0.16.0", "RELEASE-0.16.3", "RELEASE-0.17.0"],
  });
  makeRepo(join(tmp, "up/lib-musl"), { releases: ["RELEASE-0.15.0", "RELEASE-0.16.0", "RELEASE-0.16.3"] });
  makeRepo(join(tmp, "up/lib-sqlite"), { releases: ["RELEASE-0.15.0", "RELEASE-0.16.0"] });
  const project = makeProject(join(tmp, "app"), gitSource(join(tmp, "up/unikraft"), "stable"), {
    musl: gitSource(join(tmp, "up/lib-musl"), "stable"),
    sqlite: gitSource(join(tmp, "up/lib-sqlite"), "stable"),
  });
  const reporter = collectingReporter();
  const f = await fetchProjectSources(project, { env: isolatedEnv(join(tmp, "home")), reporter });
  assert.equal(f.core.dir, join(project.dir, ".unikraft/unikraft"));
  assert.equal(f.core.resolvedRef, "RELEASE-0.16.3");
  assert.equal(read(f.core.dir), "RELEASE-0.16.3");
  assert.deepEqual(
    f.libraries.map((l) => [l.name, l.resolvedRef, read(l.dir), l.dir]),
    [
      ["musl", "RELEASE-0.16.3", "RELEASE-0.16.3", join(project.dir, ".unikraft/libs/musl")],
      ["sqlite", "RELEASE-0.16.0", "RELEASE-0.16.0", join(project.dir, ".unikraft/libs/sqlite")],
    ],
  );
  assert.deepEqual(reporter.warnings, []);
  const notices = reporter.infos.filter((m) => m.includes('"stable"'));
  assert.equal(notices.length, 1, reporter.infos.join("\n"));
  assert.equal(
    notices[0],
    'notice: "stable" is release line 0.16: the newest every component has; unikraft\'s newest is 0.17, which library musl, library sqlite lack: unikraft RELEASE-0.16.3, library musl RELEASE-0.16.3, library sqlite RELEASE-0.16.0',
  );
  assert.equal(git(f.core.dir, "rev-parse", "HEAD"), f.core.commit);
  const lock = readFileSync(f.lockFile, "utf8");
  assert.match(lock, /ref: RELEASE-0\.16\.3\n\s+commit: [0-9a-f]{40}/);
});

test("stable and an application checkout with release tags: the set is the line the application was released for", async (t) => {
  const tmp = scratchDir(t);
  makeRepo(join(tmp, "up/unikraft"), { releases: ["RELEASE-0.15.0", "RELEASE-0.16.3", "RELEASE-0.17.0"] });
  makeRepo(join(tmp, "up/lib-musl"), { releases: ["RELEASE-0.15.0", "RELEASE-0.16.3"] });
  // The project directory is a clone of the application, whose newest release is 0.15.0 (app-sqlite's case).
  const project = makeProject(join(tmp, "app"), gitSource(join(tmp, "up/unikraft"), "stable"), {
    musl: gitSource(join(tmp, "up/lib-musl"), "stable"),
  });
  git(project.dir, "init", "-q", "-b", "main");
  commit(project.dir, { "main.c": "int main(void) { return 0; }\n" }, "app 0.15");
  git(project.dir, "tag", "-a", "-m", "RELEASE-0.15.0", "RELEASE-0.15.0");
  commit(project.dir, { "README.md": "later work\n" }, "after the release");
  const reporter = collectingReporter();
  const f = await fetchProjectSources(project, { env: isolatedEnv(join(tmp, "home")), reporter });
  assert.deepEqual(
    [f.core.resolvedRef, ...f.libraries.map((l) => l.resolvedRef)],
    ["RELEASE-0.15.0", "RELEASE-0.15.0"],
  );
  assert.match(
    reporter.infos.join("\n"),
    /notice: "stable" is release line 0\.15: the newest every component has; unikraft's newest is 0\.17, library musl's newest is 0\.16, which the application lacks: unikraft RELEASE-0\.15\.0, library musl RELEASE-0\.15\.0/,
  );
});

test("stable with no release line in common: the core's newest, libraries not newer, one warning and one suggestion", async (t) => {
  const tmp = scratchDir(t);
  makeRepo(join(tmp, "up/unikraft"), { releases: ["RELEASE-0.16.0", "RELEASE-0.17.0", "RELEASE-0.17.1"] });
  makeRepo(join(tmp, "up/lib-match"), { releases: ["RELEASE-0.17.1", "RELEASE-0.18.0"] });
  makeRepo(join(tmp, "up/lib-lagging"), { releases: ["RELEASE-0.15.0", "RELEASE-0.16.0"] });
  const project = makeProject(join(tmp, "app"), gitSource(join(tmp, "up/unikraft"), "stable"), {
    match: gitSource(join(tmp, "up/lib-match"), "stable"),
    lagging: gitSource(join(tmp, "up/lib-lagging"), "stable"),
  });
  const reporter = collectingReporter();
  const f = await fetchProjectSources(project, { env: isolatedEnv(join(tmp, "home")), reporter });
  assert.equal(f.core.resolvedRef, "RELEASE-0.17.1");
  assert.deepEqual(
    f.libraries.map((l) => [l.name, l.resolvedRef]),
    [
      ["match", "RELEASE-0.17.1"],
      ["lagging", "RELEASE-0.16.0"],
    ],
  );
  assert.equal(reporter.warnings.length, 1, reporter.warnings.join("\n"));
  assert.match(
    reporter.warnings[0]!,
    /^"stable": no release line is common to unikraft, library match, library lagging \(unikraft: 0\.17, 0\.16; library match: 0\.18, 0\.17; library lagging: 0\.16, 0\.15\); .*Pin every component .*: unikraft RELEASE-0\.17\.1, library match RELEASE-0\.17\.1, library lagging RELEASE-0\.16\.0$/,
  );
});

test("tag, branch and commit versions; a directory source is used in place", async (t) => {
  const tmp = scratchDir(t);
  const commits = makeRepo(join(tmp, "up/unikraft"), {
    releases: ["RELEASE-0.16.0", "RELEASE-0.17.0"],
    staging: true,
  });
  makeRepo(join(tmp, "up/lib-a"), { releases: ["RELEASE-0.16.0", "RELEASE-0.17.0"], staging: true });
  makeRepo(join(tmp, "up/lib-b"), { releases: ["RELEASE-0.16.0", "RELEASE-0.17.0"] });
  // A commit on no branch or tag (as a pull request's): fetched by its id.
  const lone = join(tmp, "up/lib-c");
  makeRepo(lone, { releases: ["RELEASE-0.17.0"] });
  git(lone, "checkout", "-q", "--detach");
  const dangling = commit(lone, { VERSION: "dangling\n" });
  git(lone, "checkout", "-q", "main");
  git(lone, "config", "uploadpack.allowAnySHA1InWant", "true");
  const localLib = join(tmp, "local-lib");
  mkdirSync(localLib);
  const old = commits.get("RELEASE-0.16.0")!;
  const project = makeProject(join(tmp, "app"), gitSource(join(tmp, "up/unikraft"), old.slice(0, 10)), {
    a: gitSource(join(tmp, "up/lib-a"), "staging"),
    b: gitSource(join(tmp, "up/lib-b"), "RELEASE-0.16.0"),
    mine: { type: "directory", path: localLib },
    c: gitSource(lone, dangling),
  });
  const f = await fetchProjectSources(project, { env: isolatedEnv(join(tmp, "home")) });
  assert.equal(f.core.commit, old);
  assert.equal(read(f.core.dir), "RELEASE-0.16.0");
  assert.equal(read(f.libraries[0]!.dir), "staging");
  assert.equal(f.libraries[0]!.resolvedRef, "staging");
  assert.equal(read(f.libraries[1]!.dir), "RELEASE-0.16.0");
  assert.equal(f.libraries[2]!.dir, localLib);
  assert.equal(existsSync(join(project.dir, ".unikraft/libs/mine")), false);
  assert.equal(read(f.libraries[3]!.dir), "dangling");
  assert.equal(f.libraries[3]!.resolvedRef, dangling);
});

test("a version the repository lacks is an error naming it and what exists", async (t) => {
  const tmp = scratchDir(t);
  makeRepo(join(tmp, "up/unikraft"), { releases: ["RELEASE-0.17.0"] });
  const project = makeProject(join(tmp, "app"), gitSource(join(tmp, "up/unikraft"), "RELEASE-9.9.9"));
  await assert.rejects(fetchProjectSources(project, { env: isolatedEnv(join(tmp, "home")) }), (e) => {
    assert.ok(isKilnError(e, "SOURCE_VERSION_NOT_FOUND"), String(e));
    assert.match(e.message, /unikraft: version "RELEASE-9\.9\.9" is neither a tag, a branch nor a commit/);
    assert.match(e.hint ?? "", /RELEASE-0\.17\.0/);
    return true;
  });
  assert.equal(existsSync(join(project.dir, ".unikraft/unikraft")), false);
});

test("the cache: a second fetch needs no upstream; --offline works from it", async (t) => {
  const tmp = scratchDir(t);
  makeRepo(join(tmp, "up/unikraft"), { releases: ["RELEASE-0.17.0"] });
  makeRepo(join(tmp, "up/lib-x"), { releases: ["RELEASE-0.17.0"] });
  const env = isolatedEnv(join(tmp, "home"));
  const mk = (name: string) =>
    makeProject(join(tmp, name), gitSource(join(tmp, "up/unikraft"), "stable"), {
      x: gitSource(join(tmp, "up/lib-x"), "stable"),
    });
  await fetchProjectSources(mk("app1"), { env });
  rmSync(join(tmp, "up"), { recursive: true });
  // Same project again (lock present), and a new project without a lock, offline.
  const again = await fetchProjectSources(mk("app1"), { env });
  assert.equal(again.core.resolvedRef, "RELEASE-0.17.0");
  const offline = await fetchProjectSources(mk("app2"), { env, offline: true });
  assert.equal(read(offline.libraries[0]!.dir), "RELEASE-0.17.0");
});

test("--offline names each missing component and the places tried", async (t) => {
  const tmp = scratchDir(t);
  makeRepo(join(tmp, "up/unikraft"), { releases: ["RELEASE-0.17.0"] });
  makeRepo(join(tmp, "up/lib-x"), { releases: ["RELEASE-0.17.0"] });
  const mirror = join(tmp, "mirror");
  mkdirSync(mirror);
  symlinkSync(join(tmp, "up/unikraft"), join(mirror, "unikraft.git"));
  const project = makeProject(join(tmp, "app"), gitSource("https://example.invalid/unikraft", "stable"), {
    x: gitSource("https://example.invalid/lib-x", "stable"),
  });
  await assert.rejects(
    fetchProjectSources(project, {
      env: isolatedEnv(join(tmp, "home")),
      offline: true,
      mirrors: [join(tmp, "gone"), mirror],
    }),
    (e) => {
      assert.ok(isKilnError(e, "SOURCES_MISSING"), String(e));
      assert.match(
        e.message,
        /1 source not found offline.*library x stable \(https:\/\/example\.invalid\/lib-x\)/,
      );
      const details = e.details.join("\n");
      assert.match(details, new RegExp(`tried: ${join(mirror, "lib-x.git")} \\(absent\\)`));
      assert.match(
        details,
        new RegExp(`tried: ${join(tmp, "gone")} \\(missing; mirror from --with-mirror\\)`),
      );
      assert.match(
        details,
        /tried: https:\/\/example\.invalid\/lib-x \(upstream not contacted \(--offline\)\)/,
      );
      return true;
    },
  );
  // The core came from the mirror all the same.
  assert.equal(read(join(project.dir, ".unikraft/unikraft")), "RELEASE-0.17.0");
});

test("mirrors are tried in order before the upstream", async (t) => {
  const tmp = scratchDir(t);
  makeRepo(join(tmp, "up/unikraft"), { releases: ["RELEASE-0.17.0"] });
  makeRepo(join(tmp, "m2/unikraft"), { releases: ["RELEASE-0.17.0"], files: { FROM: "mirror two\n" } });
  makeRepo(join(tmp, "m3/unikraft.git"), { releases: ["RELEASE-0.17.0"], files: { FROM: "mirror three\n" } });
  mkdirSync(join(tmp, "m1"));
  const project = makeProject(join(tmp, "app"), gitSource(join(tmp, "up/unikraft"), "stable"));
  const env = { ...isolatedEnv(join(tmp, "home")), KILN_MIRRORS: `${join(tmp, "m3")}` };
  const f = await fetchProjectSources(project, { env, mirrors: [join(tmp, "m1"), join(tmp, "m2")] });
  assert.equal(read(f.core.dir, "FROM"), "mirror two");
});

test("the lock file pins commits until --update", async (t) => {
  const tmp = scratchDir(t);
  const up = join(tmp, "up/unikraft");
  makeRepo(up, { releases: ["RELEASE-0.17.0"], staging: true });
  makeRepo(join(tmp, "up/lib-x"), { releases: ["RELEASE-0.17.0"] });
  const env = isolatedEnv(join(tmp, "home"));
  const project = makeProject(join(tmp, "app"), gitSource(up, "staging"), {
    x: gitSource(join(tmp, "up/lib-x"), "RELEASE-0.17.0"),
  });
  const first = await fetchProjectSources(project, { env });
  // Upstream moves on: staging advances, the library's tag is moved.
  git(up, "checkout", "-q", "staging");
  const newer = commit(up, { VERSION: "staging 2\n" });
  const lib = join(tmp, "up/lib-x");
  commit(lib, { VERSION: "retagged\n" });
  git(lib, "tag", "-f", "-a", "-m", "moved", "RELEASE-0.17.0");

  const locked = await fetchProjectSources(project, { env });
  assert.equal(locked.core.commit, first.core.commit);
  assert.equal(read(locked.core.dir), "staging");
  assert.equal(read(locked.libraries[0]!.dir), "RELEASE-0.17.0");

  // Local edits in .unikraft/ are never thrown away.
  writeFileSync(join(locked.core.dir, "VERSION"), "my edit\n");
  await assert.rejects(fetchProjectSources(project, { env, update: true }), (e) => {
    assert.ok(isKilnError(e, "SOURCE_DIRTY"), String(e));
    assert.match(e.message, /unikraft: .*\.unikraft\/unikraft has uncommitted changes/);
    assert.deepEqual(e.details, ["  |  M VERSION"]);
    return true;
  });
  git(locked.core.dir, "checkout", "--", "VERSION");

  const updated = await fetchProjectSources(project, { env, update: true });
  assert.equal(updated.core.commit, newer);
  assert.equal(read(updated.core.dir), "staging 2");
  assert.equal(read(updated.libraries[0]!.dir), "retagged");
  assert.match(readFileSync(updated.lockFile, "utf8"), new RegExp(`commit: ${newer}`));
});

test("two fetches sharing the cache at once take turns; a template goes to .unikraft/apps/", async (t) => {
  const tmp = scratchDir(t);
  makeRepo(join(tmp, "up/unikraft"), { releases: ["RELEASE-0.17.0"] });
  makeRepo(join(tmp, "up/app-hello"), { releases: ["RELEASE-0.17.0"], files: { "main.c": "int main;\n" } });
  const env = isolatedEnv(join(tmp, "home"));
  const projects = ["a", "b"].map((n) =>
    makeProject(join(tmp, n), gitSource(join(tmp, "up/unikraft"), "stable")),
  );
  projects[0]!.template = {
    name: "hello",
    source: gitSource(join(tmp, "up/app-hello"), "stable"),
    kconfig: {},
  };
  const [a, b] = await Promise.all(projects.map((p) => fetchProjectSources(p, { env })));
  assert.equal(a!.core.commit, b!.core.commit);
  assert.equal(a!.template?.dir, join(tmp, "a/.unikraft/apps/hello"));
  assert.equal(readFileSync(join(tmp, "a/.unikraft/apps/hello/main.c"), "utf8"), "int main;\n");
});
