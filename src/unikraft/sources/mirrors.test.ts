import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { isKilnError } from "../../core/errors.js";
import { collectingReporter } from "../../core/output.js";
import { effectiveMirrors } from "./archives.js";
import {
  archivePlaces,
  loadMirrors,
  mirrorRepoCandidates,
  parseConfigMirrors,
  parseMirror,
  repoName,
} from "./mirrors.js";

test("parseMirror tells URLs from directories", () => {
  assert.deepEqual(parseMirror("https://git.example.org/uk/", "/cwd"), {
    kind: "url",
    base: "https://git.example.org/uk",
  });
  assert.deepEqual(parseMirror("file:///srv/m", "/cwd"), { kind: "dir", path: "/srv/m" });
  assert.deepEqual(parseMirror("m", "/cwd"), { kind: "dir", path: "/cwd/m" });
  assert.deepEqual(parseMirror("/m", "/cwd", "KILN_MIRRORS"), {
    kind: "dir",
    path: "/m",
    origin: "KILN_MIRRORS",
  });
});

test("repository names and candidates", () => {
  assert.equal(repoName("https://github.com/unikraft/lib-musl.git"), "lib-musl");
  assert.equal(repoName("git@github.com:unikraft/unikraft"), "unikraft");
  assert.deepEqual(mirrorRepoCandidates({ kind: "dir", path: "/m" }, "lib-musl"), [
    "/m/lib-musl.git",
    "/m/lib-musl",
  ]);
  assert.deepEqual(mirrorRepoCandidates({ kind: "url", base: "http://h/uk" }, "unikraft"), [
    "http://h/uk/unikraft",
    "http://h/uk/unikraft.git",
  ]);
});

test("order: flags, then KILN_MIRRORS (comma-separated), then config.yaml; duplicates dropped", async (t) => {
  const home = mkdtempSync(join(tmpdir(), "kiln-mirrors-"));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  mkdirSync(join(home, "config"));
  writeFileSync(join(home, "config/config.yaml"), "mirrors:\n  - http://cfg.example/uk\n  - rel\n  - /a\n");
  const mirrors = await loadMirrors({
    flags: ["/a"],
    env: { KILN_HOME: home, KILN_MIRRORS: "http://env.example/uk, /b" },
    cwd: "/cwd",
  });
  assert.deepEqual(mirrors, [
    { kind: "dir", path: "/a", origin: "--with-mirror" },
    { kind: "url", base: "http://env.example/uk" },
    { kind: "dir", path: "/b", origin: "KILN_MIRRORS" },
    { kind: "url", base: "http://cfg.example/uk" },
    { kind: "dir", path: join(home, "config/rel"), origin: join(home, "config/config.yaml") },
  ]);
});

test("a config whose mirrors is not a list is an error naming the file", () => {
  assert.throws(
    () => parseConfigMirrors("mirrors: /srv/m\n", "/etc/kiln/config.yaml"),
    (e) => isKilnError(e, "CONFIG_INVALID") && e.message.startsWith("/etc/kiln/config.yaml:"),
  );
  assert.deepEqual(parseConfigMirrors("", "f"), []);
});

test("a missing mirror directory is warned about once per reporter, and is one place tried", async (t) => {
  const home = mkdtempSync(join(tmpdir(), "kiln-mirrors-"));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  mkdirSync(join(home, "there"));
  const env = { KILN_HOME: home };
  const reporter = collectingReporter();
  const given = [join(home, "gone"), join(home, "there")];
  const mirrors = await effectiveMirrors(given, env, home, reporter);
  await effectiveMirrors(given, env, home, reporter);
  await loadMirrors({ flags: given, env, reporter });
  assert.deepEqual(reporter.warnings, [
    `mirror directory ${join(home, "gone")} (from --with-mirror) does not exist; nothing can be fetched from it`,
  ]);
  assert.deepEqual(archivePlaces(mirrors, ["musl-1.2.3.tar.gz"]), [
    { from: join(home, "gone"), note: "missing; mirror from --with-mirror" },
    { from: join(home, "there", "musl-1.2.3.tar.gz") },
    { from: join(home, "there", "archives", "musl-1.2.3.tar.gz") },
  ]);
  const other = collectingReporter();
  await loadMirrors({ flags: given, env, reporter: other });
  assert.equal(other.warnings.length, 1, "a new run (reporter) is told again");
});
