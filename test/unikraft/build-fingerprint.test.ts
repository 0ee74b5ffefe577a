/**
 * `buildProject` skips make when nothing make depends on changed since its
 * last successful run, and runs it again on every kind of change. Whether
 * make ran is read from the line the fixture core's Makefile appends to
 * `<build dir>/.fixture-make-runs` on every run, and from the build log.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { isKilnError } from "../../src/core/errors.js";
import { type BuildOptions, buildProject } from "../../src/unikraft/build.js";
import { fingerprintPath } from "../../src/unikraft/fingerprint.js";
import { scratchDir } from "../helpers/kiln.js";
import { FIXTURE_CORE, fixtureProject, HELLO_MAIN, target } from "./fixture-project.js";

const TARGET = "hello_qemu-x86_64";

/** A project on a copy of the fixture core (so the test may edit the core). */
function setup(t: TestContext) {
  const root = scratchDir(t);
  const core = join(root, "core");
  cpSync(FIXTURE_CORE, core, { recursive: true });
  const project = fixtureProject(root, {
    unikraft: { name: "unikraft", source: { type: "directory", path: core }, kconfig: {} },
  });
  const buildDir = join(project.outdir, "targets", TARGET);
  const paths = {
    root,
    core,
    lib: join(root, "lib-foo"),
    app: project.dir,
    buildDir,
    builtKernel: join(buildDir, TARGET),
    log: join(project.outdir, `${TARGET}.log`),
    fingerprint: fingerprintPath(buildDir, TARGET),
  };
  /** The goals of every make run so far. */
  const makeRuns = () =>
    existsSync(join(buildDir, ".fixture-make-runs"))
      ? readFileSync(join(buildDir, ".fixture-make-runs"), "utf8").trim().split("\n")
      : [];
  const build = async (opts: BuildOptions = {}) => {
    const [r] = await buildProject(project, { jobs: 2, ...opts });
    assert.ok(r);
    return r;
  };
  return { project, paths, makeRuns, build };
}

const past = new Date(2001, 1, 1);

test("a rebuild with nothing changed runs no make and leaves the build log as it was; --force runs make", async (t) => {
  const { paths, makeRuns, build } = setup(t);
  const first = await build();
  assert.equal(first.skippedMake, false);
  assert.deepEqual(makeRuns(), ["defconfig", "all"]);
  assert.ok(existsSync(paths.fingerprint));
  const log = readFileSync(paths.log, "utf8");
  assert.match(log, /^kiln: make runs for hello_qemu-x86_64; changed since the last build: configuration$/m);
  const logMtimeMs = statSync(paths.log).mtimeMs;

  const again = await build();
  assert.deepEqual([again.skippedMake, again.configured, again.steps], [true, false, 0]);
  assert.deepEqual(makeRuns(), ["defconfig", "all"], "make did not run");
  assert.equal(readFileSync(paths.log, "utf8"), log, "the log still describes the build that made the image");
  assert.equal(statSync(paths.log).mtimeMs, logMtimeMs);
  assert.equal(again.logFile, paths.log);
  assert.match(execFileSync(again.kernel, { encoding: "utf8" }), /Hello from fixture 42/);

  const forced = await build({ force: true });
  assert.deepEqual([forced.skippedMake, forced.steps], [false, 0]);
  assert.deepEqual(makeRuns(), ["defconfig", "all", "all"]);
  assert.match(readFileSync(paths.log, "utf8"), /changed since the last build: --force\n/);
  assert.equal((await build()).skippedMake, true, "and after it, skipped again");
});

test("every change make depends on makes make run again, and the next build skips it again", async (t) => {
  const { project, paths, makeRuns, build } = setup(t);
  let env: NodeJS.ProcessEnv = { ...process.env };
  await build({ env });
  const checks: { change: string; reason: RegExp; act: () => void; after?: (out: string) => void }[] = [
    {
      change: "a core file's content",
      reason: /core \S+\/core/,
      act: () =>
        writeFileSync(
          join(paths.core, "lib/fixtureboot/boot.c"),
          'int printf(const char *fmt, ...);\nvoid uk_banner(void) { printf("edited core\\n"); }\n',
        ),
      after: (out) => assert.match(out, /^edited core\n/),
    },
    {
      change: "a core file's mtime only",
      reason: /core /,
      act: () => utimesSync(join(paths.core, "version.mk"), past, past),
    },
    {
      change: "a library file",
      reason: /library \S+\/lib-foo/,
      act: () => writeFileSync(join(paths.lib, "foo.c"), "int foo(void) { return 43; }\n"),
      after: (out) => assert.match(out, /Hello from fixture 43/),
    },
    {
      change: "an application source",
      reason: /app \S+\/app/,
      act: () => writeFileSync(join(paths.app, "main.c"), HELLO_MAIN.replace("Hello from", "Hi from")),
      after: (out) => assert.match(out, /Hi from fixture 43/),
    },
    {
      change: "a file added to the application",
      reason: /app /,
      act: () => writeFileSync(join(paths.app, "extra.c"), "int extra(void) { return 1; }\n"),
    },
    { change: "that file removed", reason: /app /, act: () => rmSync(join(paths.app, "extra.c")) },
    {
      change: "the .config's mtime",
      reason: /inputs/,
      act: () => utimesSync(join(paths.app, `.config.${TARGET}`), past, past),
    },
    {
      change: "CROSS_COMPILE set (empty)",
      reason: /env CROSS_COMPILE/,
      act: () => {
        env = { ...env, CROSS_COMPILE: "" };
      },
    },
    {
      change: "PATH",
      reason: /env PATH/,
      act: () => {
        mkdirSync(join(paths.root, "bin"));
        env = { ...env, PATH: `${join(paths.root, "bin")}:${env.PATH}` };
      },
    },
    { change: "the built image deleted", reason: /outputs/, act: () => rmSync(paths.builtKernel) },
    {
      change: "the built image replaced by a copy with the same size and mtime",
      reason: /outputs/,
      act: () => {
        const copy = join(paths.root, "copy");
        copyFileSync(paths.builtKernel, copy);
        const st = statSync(paths.builtKernel);
        utimesSync(copy, st.atime, st.mtime);
        renameSync(copy, paths.builtKernel);
      },
    },
    {
      change: "the Kraftfile's kconfig",
      reason: /configuration/,
      act: () => {
        project.targets[0]!.kconfig = { CONFIG_LIBPOSIX_ENVIRON_ENVP0: '"X=1"' };
      },
      after: (out) => assert.match(out, /env0=X=1/),
    },
  ];
  for (const c of checks) {
    const before = makeRuns().length;
    c.act();
    const r = await build({ env });
    assert.equal(r.skippedMake, false, `${c.change}: make runs`);
    assert.ok(makeRuns().length > before, `${c.change}: make ran`);
    const why = /^kiln: make runs for .*$/m.exec(readFileSync(paths.log, "utf8"))?.[0] ?? "";
    assert.match(why, c.reason, c.change);
    assert.ok(existsSync(r.kernel), `${c.change}: the image is there`);
    c.after?.(execFileSync(r.kernel, { encoding: "utf8" }));
    const again = await build({ env });
    assert.equal(again.skippedMake, true, `${c.change}: the build after is a no-op`);
  }
});

test("files Kiln and git keep, and the build directory, do not count", async (t) => {
  const { project, paths, makeRuns, build } = setup(t);
  await build();
  mkdirSync(join(paths.app, ".git"));
  writeFileSync(join(paths.app, ".git", "index"), "git's own");
  writeFileSync(join(project.outdir, "notes"), "beside the images");
  writeFileSync(join(paths.buildDir, "scratch.o"), "in make's build directory");
  const r = await build();
  assert.equal(r.skippedMake, true);
  // A --build-log and KILN_HOME inside the project are Kiln's, rewritten on every run.
  const home = join(paths.app, "kiln-home");
  mkdirSync(join(home, "state"), { recursive: true });
  writeFileSync(join(home, "state", "instance"), "a VM record");
  const own = await build({ buildLog: join(paths.app, "my.log"), env: { ...process.env, KILN_HOME: home } });
  assert.equal(own.skippedMake, true);
  assert.match(readFileSync(join(paths.app, "my.log"), "utf8"), /up to date .*make not run/);
  assert.deepEqual(makeRuns(), ["defconfig", "all"]);
});

test("a library inside the application directory counts as the library, once", async (t) => {
  const { project, paths, build } = setup(t);
  const inner = join(paths.app, "lib-foo");
  cpSync(paths.lib, inner, { recursive: true });
  project.libraries[0]!.source = { type: "directory", path: inner };
  await build();
  writeFileSync(join(inner, "foo.c"), "int foo(void) { return 7; }\n");
  const r = await build();
  assert.equal(r.skippedMake, false);
  const why = /^kiln: make runs for .*$/m.exec(readFileSync(paths.log, "utf8"))?.[0] ?? "";
  assert.match(why, /changed since the last build: library \S+\/app\/lib-foo$/);
  assert.match(execFileSync(r.kernel, { encoding: "utf8" }), /Hello from fixture 7/);
  assert.equal((await build()).skippedMake, true);
});

test("a failed make leaves no fingerprint, so the next build runs make", async (t) => {
  const { paths, build } = setup(t);
  await build();
  writeFileSync(join(paths.app, "main.c"), "int main(void) { return undeclared; }\n");
  await assert.rejects(build(), (e) => isKilnError(e, "BUILD_FAILED"));
  assert.equal(existsSync(paths.fingerprint), false);
  writeFileSync(join(paths.app, "main.c"), HELLO_MAIN);
  const r = await build();
  assert.equal(r.skippedMake, false);
  assert.match(readFileSync(paths.log, "utf8"), /no fingerprint of a previous successful build/);
});

test("a racily clean file whose content differs from the one recorded makes make run", async (t) => {
  const { paths, build } = setup(t);
  await build();
  // The .config was written moments before make ran, so its content was recorded.
  const fp = JSON.parse(readFileSync(paths.fingerprint, "utf8")) as { racy: Record<string, string> };
  const config = join(paths.app, `.config.${TARGET}`);
  assert.ok(fp.racy[config], "the fresh .config is recorded by content");
  // Same stat, other content: what a second write within one timestamp tick leaves behind.
  fp.racy[config] = "0".repeat(64);
  writeFileSync(paths.fingerprint, JSON.stringify(fp));
  const r = await build();
  assert.equal(r.skippedMake, false);
  assert.match(
    readFileSync(paths.log, "utf8"),
    /changed since the last build: content of \S+\.config\.hello/,
  );
});

test("building a second target does not make the first one's make run again (its .config.<target> is Kiln's file)", async (t) => {
  const root = scratchDir(t);
  const project = fixtureProject(root, {
    targets: [
      target("hello_qemu-x86_64", "qemu", "x86_64"),
      target("hello_fc-x86_64", "firecracker", "x86_64"),
    ],
  });
  const runs = (name: string) => {
    const f = join(project.outdir, "targets", name, ".fixture-make-runs");
    return existsSync(f) ? readFileSync(f, "utf8").trim().split("\n") : [];
  };
  const build = async (name: string) => {
    const [r] = await buildProject(project, { jobs: 2, name });
    assert.ok(r);
    return r;
  };
  assert.equal((await build("hello_qemu-x86_64")).skippedMake, false);
  assert.equal((await build("hello_fc-x86_64")).skippedMake, false);
  assert.ok(existsSync(join(project.dir, ".config.hello_fc-x86_64")), "the second target's configuration");
  const again = await build("hello_qemu-x86_64");
  assert.equal(
    again.skippedMake,
    true,
    `make ran again: ${readFileSync(again.logFile, "utf8").split("\n")[0]}`,
  );
  assert.deepEqual(runs("hello_qemu-x86_64"), ["defconfig", "all"]);
  assert.equal((await build("hello_fc-x86_64")).skippedMake, true);
  // Its own configuration still counts.
  writeFileSync(join(project.dir, ".config.hello_qemu-x86_64"), "CONFIG_LIBFOO=y\n", { flag: "a" });
  assert.equal(
    (await buildProject(project, { jobs: 2, name: "hello_qemu-x86_64", configure: false }))[0]?.skippedMake,
    false,
  );
});
