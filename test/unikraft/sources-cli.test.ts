/**
 * `kiln fetch` end to end: a Kraftfile with default (GitHub) sources served
 * entirely from a mirror directory of local repositories, so the upstream is
 * never contacted; text and `--json` output; the offline error.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { git, isolatedEnv, makeRepo } from "./sources-fixtures.js";

const KRAFTFILE = `spec: v0.6
name: app
unikraft: stable
libraries:
  foo: stable
targets:
  - qemu/x86_64
`;

test("kiln fetch from a mirror: table, --json, lock file, offline error", async (t) => {
  const started = Date.now();
  const tmp = scratchDir(t);
  const mirror = join(tmp, "mirror");
  const core = makeRepo(join(tmp, "up/unikraft"), { releases: ["RELEASE-0.16.0", "RELEASE-0.17.0"] });
  makeRepo(join(tmp, "up/lib-foo"), { releases: ["RELEASE-0.16.0"] });
  mkdirSync(mirror);
  git(tmp, "clone", "-q", "--bare", join(tmp, "up/unikraft"), join(mirror, "unikraft.git"));
  git(tmp, "clone", "-q", "--bare", join(tmp, "up/lib-foo"), join(mirror, "lib-foo.git"));
  const app = join(tmp, "app");
  mkdirSync(app);
  writeFileSync(join(app, "Kraftfile"), KRAFTFILE);
  const env = isolatedEnv(join(tmp, "home"));

  const text = await runKiln(["fetch", app, "--with-mirror", mirror], { env });
  assert.equal(text.code, 0, text.stderr);
  const lines = text.stdout.trim().split("\n");
  assert.match(
    lines[0]!,
    new RegExp(
      `^unikraft\\s+RELEASE-0\\.16\\.0 \\(${core.get("RELEASE-0.16.0")!.slice(0, 12)}\\)\\s+\\.unikraft/unikraft$`,
    ),
  );
  assert.match(lines[1]!, /^foo\s+RELEASE-0\.16\.0 \([0-9a-f]{12}\)\s+\.unikraft\/libs\/foo$/);
  assert.equal(lines[2], `lock: ${join(app, "kiln.lock")}`);
  // The library lags the core: "stable" is the 0.16 line both have, said once.
  assert.match(
    text.stderr,
    /^notice: "stable" is release line 0\.16: the newest every component has; unikraft's newest is 0\.17, which library foo lacks: unikraft RELEASE-0\.16\.0, library foo RELEASE-0\.16\.0$/m,
  );
  assert.doesNotMatch(text.stderr, /warning/);
  assert.equal(readFileSync(join(app, ".unikraft/libs/foo/VERSION"), "utf8"), "RELEASE-0.16.0\n");
  assert.match(readFileSync(join(app, "kiln.lock"), "utf8"), /url: https:\/\/github\.com\/unikraft\/lib-foo/);

  // Offline, from the cache alone (no mirror): JSON for scripts. (runKiln runs in the repository,
  // where tsx resolves, so the project is named by path.)
  const json = await runKiln(["fetch", app, "--offline", "--json"], { env });
  assert.equal(json.code, 0, json.stderr);
  const out = JSON.parse(json.stdout) as {
    core: { commit: string; dir: string };
    libraries: { name: string }[];
  };
  assert.equal(out.core.commit, core.get("RELEASE-0.16.0"));
  assert.equal(out.core.dir, join(app, ".unikraft/unikraft"));
  assert.deepEqual(
    out.libraries.map((l) => l.name),
    ["foo"],
  );

  // A library nobody has: offline names it and where Kiln looked; no stack trace.
  writeFileSync(
    join(app, "Kraftfile"),
    `${KRAFTFILE.replace("  foo: stable\n", "  foo: stable\n  bar: stable\n")}`,
  );
  const missing = await runKiln(["fetch", app, "--offline", "--with-mirror", mirror], { env });
  assert.equal(missing.code, 1);
  assert.match(
    missing.stderr,
    /^error: 1 source not found offline \(cache and mirrors only\): library bar stable/m,
  );
  assert.match(missing.stderr, new RegExp(`tried: ${join(mirror, "lib-bar.git")} \\(absent\\)`));
  assert.match(
    missing.stderr,
    /tried: https:\/\/github\.com\/unikraft\/lib-bar \(upstream not contacted \(--offline\)\)/,
  );
  assert.doesNotMatch(missing.stderr, /\n\s+at /);
  t.diagnostic(`took ${Date.now() - started} ms`);
});

test("mirror directories that do not exist: one warning each naming where it came from; offline lists them as missing", async (t) => {
  const tmp = scratchDir(t);
  const app = join(tmp, "app");
  mkdirSync(app);
  writeFileSync(join(app, "Kraftfile"), KRAFTFILE);
  const home = join(tmp, "home");
  mkdirSync(join(home, "config"), { recursive: true });
  const configFile = join(home, "config", "config.yaml");
  writeFileSync(configFile, `mirrors:\n  - ${join(tmp, "no-cfg")}\n`);
  const env = { ...isolatedEnv(home), KILN_MIRRORS: join(tmp, "no-env") };
  const r = await runKiln(["fetch", app, "--offline", "--with-mirror", join(tmp, "no-flag")], { env });
  assert.equal(r.code, 1);
  const warnings = r.stderr.split("\n").filter((l) => l.startsWith("warning: mirror directory"));
  assert.deepEqual(warnings, [
    `warning: mirror directory ${join(tmp, "no-flag")} (from --with-mirror) does not exist; nothing can be fetched from it`,
    `warning: mirror directory ${join(tmp, "no-env")} (from KILN_MIRRORS) does not exist; nothing can be fetched from it`,
    `warning: mirror directory ${join(tmp, "no-cfg")} (from ${configFile}) does not exist; nothing can be fetched from it`,
  ]);
  assert.match(r.stderr, /^error: 2 sources not found offline/m);
  // Listed once per missing component, not once per file looked for in it.
  const tried = r.stderr.split("\n").filter((l) => l.includes(join(tmp, "no-flag")) && l.includes("tried:"));
  assert.deepEqual(tried, [
    `  tried: ${join(tmp, "no-flag")} (missing; mirror from --with-mirror)`,
    `  tried: ${join(tmp, "no-flag")} (missing; mirror from --with-mirror)`,
  ]);
  assert.match(
    r.stderr,
    new RegExp(`tried: ${join(tmp, "no-cfg")} \\(missing; mirror from ${configFile}\\)`),
  );
});
