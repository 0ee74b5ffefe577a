/**
 * `kiln build` and `kiln clean` from the command line, on a Kraftfile whose
 * core is the fixture core and whose library is a local directory.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { writeFixtureKraftfile } from "./fixture-project.js";

test("kiln build: ambiguous and unmatched filters are errors listing the targets", async (t) => {
  const dir = writeFixtureKraftfile(scratchDir(t), { lib: ["CONFIG_LIBFOO: 'y'"] });
  const env = { KILN_HOME: join(dir, "home") };
  const amb = await runKiln(["build", dir], { env });
  assert.equal(amb.code, 1);
  assert.match(amb.stderr, /error: 2 targets are defined in .*Kraftfile; choose one or pass --all/);
  assert.match(amb.stderr, /hello_fc-x86_64 \(firecracker\/x86_64\)/);
  const none = await runKiln(["build", dir, "-m", "arm64"], { env });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /error: no target of hello matches -m arm64/);
  assert.doesNotMatch(none.stderr + amb.stderr, /\n\s+at /, "no stack trace");
});

test("kiln build --json, a no-op rebuild that skips make, --force, then kiln clean and clean --proper", async (t) => {
  const dir = writeFixtureKraftfile(scratchDir(t), { lib: ["CONFIG_LIBFOO: 'y'"] });
  const env = { KILN_HOME: join(dir, "home") };
  const r = await runKiln(["build", dir, "-p", "qemu", "-j", "2", "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { targets: { kernel: string; steps: number; logFile: string }[] };
  assert.equal(out.targets.length, 1);
  assert.equal(out.targets[0]!.kernel, join(dir, ".unikraft/build/hello_qemu-x86_64"));
  assert.ok(out.targets[0]!.steps > 0);
  assert.match(readFileSync(out.targets[0]!.logFile, "utf8"), /LD {6}hello_qemu-x86_64\.dbg/);

  const again = await runKiln(
    ["build", dir, "-t", "hello_qemu-x86_64", "--build-log", join(dir, "../b.log")],
    {
      env,
    },
  );
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^hello_qemu-x86_64: up to date$/m);
  assert.match(again.stdout, /kernel {2}.*hello_qemu-x86_64 \(\d+(\.\d+)? KiB\)/);
  assert.equal(
    readFileSync(join(dir, "../b.log"), "utf8"),
    "kiln: hello_qemu-x86_64 is up to date (nothing make depends on changed); make not run\n",
  );
  const skipped = await runKiln(["build", dir, "-t", "hello_qemu-x86_64", "--json"], { env });
  const noop = (JSON.parse(skipped.stdout) as { targets: { skippedMake: boolean; steps: number }[] })
    .targets[0];
  assert.deepEqual([noop?.skippedMake, noop?.steps], [true, 0]);

  const forced = await runKiln(["build", dir, "-t", "hello_qemu-x86_64", "--force", "--json"], { env });
  assert.equal(forced.code, 0, forced.stderr);
  const made = (JSON.parse(forced.stdout) as { targets: { skippedMake: boolean; logFile: string }[] })
    .targets[0];
  assert.equal(made?.skippedMake, false);
  assert.match(readFileSync(made.logFile, "utf8"), /Nothing to be done/);
  const fingerprint = join(
    dir,
    ".unikraft/build/targets/hello_qemu-x86_64/.kiln-fingerprint.hello_qemu-x86_64.json",
  );
  assert.ok(existsSync(fingerprint));

  const fc = await runKiln(["build", dir, "-p", "fc"], { env });
  assert.equal(fc.code, 0, fc.stderr);
  assert.match(fc.stdout, /hello_fc-x86_64/);
  assert.match(fc.stdout, /QEMU cannot boot it; run it with Firecracker/);

  const clean = await runKiln(["clean", dir], { env });
  assert.equal(clean.code, 0, clean.stderr);
  assert.match(clean.stdout, /cleaned hello_qemu-x86_64/);
  assert.equal(existsSync(out.targets[0]!.kernel), false);
  assert.equal(existsSync(fingerprint), false, "kiln clean drops the fingerprint: the next build runs make");
  assert.ok(existsSync(join(dir, ".config.hello_qemu-x86_64")), "configuration kept");
  const proper = await runKiln(["clean", dir, "--proper"], { env });
  assert.match(proper.stdout, /removed .*\.unikraft\/build/);
  assert.equal(existsSync(join(dir, ".unikraft/build")), false);
});

test("kiln build --json and kiln fetch --json print {ok: false, error} on stdout when they fail", async (t) => {
  const dir = writeFixtureKraftfile(scratchDir(t), { lib: ["CONFIG_LIBFOO: 'y'"] });
  const env = { KILN_HOME: join(dir, "home") };
  // Two targets and no -t: the build cannot start.
  const build = await runKiln(["build", "--json", dir], { env });
  assert.equal(build.code, 1);
  assert.deepEqual(JSON.parse(build.stdout), {
    ok: false,
    error: {
      code: "TARGET_AMBIGUOUS",
      message: `2 targets are defined in ${join(dir, "Kraftfile")}; choose one or pass --all`,
      hint: JSON.parse(build.stdout).error.hint,
    },
  });
  assert.match(build.stderr, /error: 2 targets are defined/, "people still read stderr");
  // A core that is nowhere offline.
  writeFileSync(
    join(dir, "Kraftfile"),
    "spec: v0.6\nname: hello\nunikraft: stable\ntargets:\n  - qemu/x86_64\n",
  );
  const fetch = await runKiln(["fetch", "--offline", "--json", dir], { env });
  assert.equal(fetch.code, 1);
  const doc = JSON.parse(fetch.stdout) as { ok: boolean; error: { code: string; message: string } };
  assert.deepEqual([doc.ok, doc.error.code], [false, "SOURCES_MISSING"]);
  assert.match(doc.error.message, /not found offline/);
});

test("kiln build -c FILE (kraft's --config): the target builds with FILE's configuration, no defconfig merged", async (t) => {
  const dir = writeFixtureKraftfile(scratchDir(t), { lib: ["CONFIG_LIBFOO: 'y'"] });
  const env = { KILN_HOME: join(dir, "home") };
  const first = await runKiln(["build", dir, "-p", "qemu", "--json"], { env });
  assert.equal(first.code, 0, first.stderr);
  const configFile = join(dir, ".config.hello_qemu-x86_64");
  const mine = join(dir, "../my.config");
  writeFileSync(mine, `${readFileSync(configFile, "utf8")}# chosen with kiln build -c\n`);
  const r = await runKiln(["build", dir, "-p", "qemu", "-c", mine, "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { targets: { configured: boolean; configFile: string }[] };
  assert.equal(out.targets[0]!.configured, false, "no make defconfig over the given file");
  assert.equal(readFileSync(configFile, "utf8"), readFileSync(mine, "utf8"));

  const both = await runKiln(["build", dir, "--all", "-c", mine], { env });
  assert.equal(both.code, 2, both.stderr);
  assert.match(
    both.stderr,
    /^error: -c .*my\.config is one target's configuration, and 2 targets are selected/m,
  );
  const missing = await runKiln(["build", dir, "-p", "qemu", "-c", join(dir, "nope.config")], { env });
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, /^error: -c .*nope\.config cannot be read \(ENOENT\)$/m);
});
