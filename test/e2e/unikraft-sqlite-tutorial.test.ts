/**
 * The Unikraft seed's app-sqlite flow, as the tutorial writes it, against the
 * real upstream trees: clone app-sqlite, `kiln build` (its kraft.yaml asks for
 * `version: stable` everywhere), then `kiln run --initrd rootfs/` in the
 * project directory, and sqlite answers a query typed on its console.
 *
 * Opt-in: KILN_TEST_UNIKRAFT_SQLITE_MIRROR names a mirror directory holding
 * `unikraft.git`, `lib-musl.git`, `lib-sqlite.git`, `app-sqlite.git` (bare
 * clones) and `archives/` with musl's tarball and SQLite's amalgamation zip,
 * assembled from Debian source packages as the README's "Stocking a mirror"
 * describes. Slow (compiles musl and sqlite: 6 to 10 minutes on 2 cores).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { runKiln, scratchDir } from "../helpers/kiln.js";

const MIRROR = process.env.KILN_TEST_UNIKRAFT_SQLITE_MIRROR;
const skip = MIRROR
  ? false
  : "KILN_TEST_UNIKRAFT_SQLITE_MIRROR is unset (a mirror with unikraft.git, lib-musl.git, lib-sqlite.git, app-sqlite.git and archives/)";

test("tutorial: app-sqlite with version: stable builds offline from a mirror and answers SQL with --initrd rootfs/", {
  skip,
  timeout: 40 * 60_000,
}, async (t) => {
  const started = Date.now();
  const tmp = scratchDir(t);
  const app = join(tmp, "app-sqlite");
  execFileSync("git", ["clone", "-q", join(MIRROR!, "app-sqlite.git"), app]);
  const env = { KILN_HOME: join(tmp, "home") };
  const build = await runKiln(
    ["build", "--offline", "--with-mirror", MIRROR!, "-t", "sqlite-qemu-x86_64-initrd", "-j2"],
    { cwd: app, env, timeoutMs: 35 * 60_000 },
  );
  t.diagnostic(`build took ${Date.now() - started} ms`);
  assert.equal(build.code, 0, build.stderr);
  // One notice names the release set; the application's own tags take part.
  assert.equal(build.stderr.match(/"stable" is release line/g)?.length, 1, build.stderr);
  assert.doesNotMatch(build.stderr, / dropped: /);
  const run = await runKiln(["run", "-W", "--initrd", "rootfs/"], {
    cwd: app,
    env,
    input: "select 1500 + 2003;\n.exit\n",
    timeoutMs: 5 * 60_000,
  });
  t.diagnostic(`build and run took ${Date.now() - started} ms`);
  assert.match(run.stdout, /^3503\r?$/m, `${run.stdout}\n${run.stderr}`);
  assert.equal(run.code, 0, run.stderr);
});
