/**
 * `buildProject` against the fixture core: configure, make, progress, logs,
 * no-op rebuilds, dropped options, compiler errors and cross builds.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { isKilnError } from "../../src/core/errors.js";
import { collectingReporter, type Reporter } from "../../src/core/output.js";
import { detectKernel } from "../../src/machine/kernel-detect.js";
import { buildProject, crossCompileFor } from "../../src/unikraft/build.js";
import { scratchDir } from "../helpers/kiln.js";
import { FIXTURE_CORE, fixtureProject, target } from "./fixture-project.js";
import { git } from "./sources-fixtures.js";

test("builds the app and its library into an image named like Unikraft's, then a rebuild is a no-op", async (t) => {
  const root = scratchDir(t);
  const project = fixtureProject(root, { env: { GREETING: "hi there" } });
  const reporter = collectingReporter();
  const [r] = await buildProject(project, { reporter, jobs: 2 });
  assert.ok(r);
  assert.equal(r.kernel, join(project.outdir, "hello_qemu-x86_64"));
  assert.equal(r.kernelSizeBytes, statSync(r.kernel).size);
  assert.equal(r.configured, true);
  assert.equal(r.steps, 4, "boot.o, main.o, foo.o and the link");
  const out = execFileSync(r.kernel, { encoding: "utf8" });
  assert.match(out, /^fixture-unikraft hello\nHello from fixture 42\nenv0=GREETING=hi there\n$/);
  const log = readFileSync(r.logFile, "utf8");
  assert.equal(r.logFile, join(project.outdir, "hello_qemu-x86_64.log"));
  assert.match(log, /^ {2}CC {6}libfoo: foo\.o$/m);
  assert.match(log, /UK_DEFCONFIG=/);
  const config = readFileSync(r.configFile, "utf8");
  assert.equal(r.configFile, join(project.dir, ".config.hello_qemu-x86_64"));
  assert.match(config, /^# CONFIG_LIBUKRANDOM is not set$/m, "TCG adjustment for a 0.17 core");
  assert.ok(reporter.infos.some((m) => m.includes("CONFIG_LIBUKRANDOM")));
  assert.deepEqual(reporter.warnings, []);

  const configMtime = statSync(r.configFile).mtimeMs;
  const kernelMtime = statSync(r.kernel).mtimeMs;
  const [again] = await buildProject(project, { jobs: 2 });
  assert.equal(again?.configured, false);
  assert.equal(again?.steps, 0);
  assert.equal(statSync(r.configFile).mtimeMs, configMtime);
  assert.equal(statSync(r.kernel).mtimeMs, kernelMtime);

  // A change to the Kraftfile's kconfig reconfigures.
  project.targets[0]!.kconfig = { CONFIG_LIBPOSIX_ENVIRON_ENVP1: '"X=1"' };
  const [third] = await buildProject(project, { jobs: 2 });
  assert.equal(third?.configured, true);
  assert.match(readFileSync(r.configFile, "utf8"), /^CONFIG_LIBPOSIX_ENVIRON_ENVP1="X=1"$/m);
});

test("warns about each requested option that did not survive into .config", async (t) => {
  const root = scratchDir(t);
  const project = fixtureProject(root);
  project.targets[0]!.kconfig = { CONFIG_NO_SUCH_THING: "y", CONFIG_LIBFOO: "y" };
  const reporter = collectingReporter();
  const [r] = await buildProject(project, { reporter });
  assert.deepEqual(
    r?.missingOptions.map(({ reason: _r, ...m }) => m),
    [{ name: "CONFIG_NO_SUCH_THING", requested: "y", actual: undefined }],
  );
  assert.match(r?.missingOptions[0]?.reason ?? "", /CONFIG_NO_SUCH_THING does not exist/);
  assert.equal(reporter.warnings.length, 1);
  assert.match(reporter.warnings[0]!, /hello_qemu-x86_64: CONFIG_NO_SUCH_THING=y dropped: /);
});

test("a compiler error reports the first errors with file and line, and the log path", async (t) => {
  const root = scratchDir(t);
  const project = fixtureProject(root, {}, "int main(void)\n{\n\treturn undeclared_thing;\n}\n");
  await assert.rejects(buildProject(project), (e) => {
    assert.ok(isKilnError(e, "BUILD_FAILED"), String(e));
    assert.match(e.message, /building hello_qemu-x86_64 failed/);
    const details = e.details.join("\n");
    assert.match(details, /main\.c:3:\d+: error: .undeclared_thing. undeclared/);
    assert.match(details, /full log: .*hello_qemu-x86_64\.log/);
    return true;
  });
  assert.equal(existsSync(join(project.outdir, "hello_qemu-x86_64")), false);
});

test("an arm64 target is cross-built with the aarch64 toolchain Kiln picks itself", async (t) => {
  if (process.arch !== "x64") return t.skip("the cross build is tested on x86_64 hosts");
  const root = scratchDir(t);
  const project = fixtureProject(root, {
    targets: [target("hello_qemu-x86_64", "qemu", "x86_64"), target("hello_qemu-arm64", "qemu", "arm64")],
  });
  const [r] = await buildProject(project, { architecture: "arm64" });
  assert.equal(r?.kernel, join(project.outdir, "hello_qemu-arm64"));
  const elf = readFileSync(r.kernel);
  assert.equal(elf.readUInt16LE(18), 183, "e_machine is EM_AARCH64");
  assert.match(readFileSync(r.logFile, "utf8"), /CROSS_COMPILE=aarch64-linux-gnu-/);
  // Its name lies past the first 64 KiB, as in real arm64 images: recognised by its .uk_* sections.
  assert.ok(elf.indexOf("unikraft") > 64 * 1024, `"unikraft" at byte ${elf.indexOf("unikraft")}`);
  assert.deepEqual(await detectKernel(r.kernel), { kind: "elf", architecture: "arm64", guest: "unikraft" });

  // Each target compiles in its own build directory, so building all of them
  // again after one another is a no-op for each.
  await buildProject(project, { all: true });
  const again = await buildProject(project, { all: true });
  assert.deepEqual(
    again.map((x) => [x.target, x.steps]),
    [
      ["hello_qemu-x86_64", 0],
      ["hello_qemu-arm64", 0],
    ],
  );
  assert.equal(
    statSync(r.kernel).ino,
    statSync(join(project.outdir, "targets/hello_qemu-arm64/hello_qemu-arm64")).ino,
  );
});

test("two targets with the same platform and architecture keep their images apart", async (t) => {
  const root = scratchDir(t);
  const project = fixtureProject(root, {
    targets: [
      target("small", "qemu", "x86_64", { CONFIG_LIBPOSIX_ENVIRON_ENVP0: '"SIZE=small"' }),
      target("large", "qemu", "x86_64", { CONFIG_LIBPOSIX_ENVIRON_ENVP0: '"SIZE=large"' }),
    ],
  });
  const results = await buildProject(project, { all: true });
  assert.deepEqual(
    results.map((r) => r.kernel),
    [
      join(project.outdir, "targets/small/hello_qemu-x86_64"),
      join(project.outdir, "targets/large/hello_qemu-x86_64"),
    ],
  );
  assert.match(execFileSync(results[0]!.kernel, { encoding: "utf8" }), /env0=SIZE=small/);
  assert.match(execFileSync(results[1]!.kernel, { encoding: "utf8" }), /env0=SIZE=large/);
});

test("a missing cross compiler is an error naming the Debian package", (t) => {
  if (process.arch !== "x64") return t.skip("checked on x86_64 hosts");
  const arm = target("hello_qemu-arm", "qemu", "arm");
  assert.throws(
    () => crossCompileFor(arm, "x86_64", "/nonexistent"),
    (e) => {
      assert.ok(isKilnError(e, "TOOL_MISSING"));
      assert.match(e.message, /arm-linux-gnueabihf-gcc not found \(needed to build hello_qemu-arm for arm/);
      assert.equal(e.hint, "on Debian/Ubuntu: apt-get install gcc-arm-linux-gnueabihf");
      return true;
    },
  );
  assert.equal(crossCompileFor(target("x", "qemu", "x86_64"), "x86_64"), undefined);
});

test("--no-configure without a .config, and sources that are not there, are clear errors", async (t) => {
  const root = scratchDir(t);
  const project = fixtureProject(root);
  await assert.rejects(buildProject(project, { configure: false }), (e) =>
    isKilnError(e, "BUILD_NOT_CONFIGURED"),
  );
  project.unikraft = {
    name: "unikraft",
    source: { type: "git", url: "https://example.invalid/u", version: "stable" },
    kconfig: {},
  };
  await assert.rejects(buildProject(project, { fetch: false }), (e) => {
    assert.ok(isKilnError(e, "SOURCES_MISSING"));
    assert.match(e.details.join("\n"), /unikraft: .*\.unikraft\/unikraft/);
    return true;
  });
});

test("a project with rootfs: gets its initrd packed as plain newc CPIO beside the kernel", async (t) => {
  const root = scratchDir(t);
  const rootfs = join(root, "rootfs");
  mkdirSync(join(rootfs, "etc"), { recursive: true });
  writeFileSync(join(rootfs, "etc", "motd"), "welcome\n");
  const project = fixtureProject(root, { rootfs: { source: rootfs, format: "cpio" } });
  const [r] = await buildProject(project);
  assert.equal(r?.initrd, join(project.outdir, "initramfs-x86_64.cpio"));
  const listing = execFileSync("bsdcpio", ["-itv", "-I", r.initrd], { encoding: "utf8" });
  assert.match(listing, /etc\/motd/);
  assert.equal(readFileSync(r.initrd).subarray(0, 6).toString(), "070701");
  assert.equal(r.initrdSizeBytes, statSync(r.initrd).size);
  const packedAt = statSync(r.initrd).mtimeMs;
  await buildProject(project);
  assert.equal(statSync(r.initrd).mtimeMs, packedAt, "unchanged rootfs: not repacked");
  writeFileSync(join(rootfs, "etc", "hostname"), "kiln\n");
  await buildProject(project);
  assert.match(execFileSync("bsdcpio", ["-it", "-I", r.initrd], { encoding: "utf8" }), /etc\/hostname/);
});

test("progress: a first build says the total is unknown; later builds count against the recorded total", async (t) => {
  const root = scratchDir(t);
  const project = fixtureProject(root);
  const updates: { message: string; done?: number; total?: number }[] = [];
  const reporter: Reporter = {
    info() {},
    warn() {},
    progress: (title) => ({
      update: (message, done, total) => {
        if (title.startsWith("build "))
          updates.push({
            message,
            ...(done !== undefined ? { done } : {}),
            ...(total !== undefined ? { total } : {}),
          });
      },
      done() {},
    }),
  };
  await buildProject(project, { reporter, jobs: 1 });
  const steps = updates.filter((u) => u.done !== undefined);
  assert.ok(steps.length >= 4, JSON.stringify(updates));
  for (const u of steps) {
    assert.equal(u.total, undefined);
    assert.match(u.message, / \(first build: total unknown\)$/);
  }
  // An edit after that cold build: make recompiles one object and links, counted out of the recorded 4.
  updates.length = 0;
  const main = join(project.dir, "main.c");
  const later = new Date(Date.now() + 60_000);
  utimesSync(main, later, later);
  await buildProject(project, { reporter, jobs: 1 });
  const again = updates.filter((u) => u.done !== undefined);
  assert.ok(again.length > 0, JSON.stringify(updates));
  for (const u of again) {
    assert.equal(u.total, 4, JSON.stringify(u));
    assert.doesNotMatch(u.message, /unknown/);
  }
});

/** A git copy of the fixture core with RELEASE-0.1.0 and RELEASE-0.2.0, each adding `extra` lines to Config.uk. */
function twoReleaseCore(root: string, extra010: string[], extra020: string[]): string {
  const core = join(root, "core");
  cpSync(FIXTURE_CORE, core, { recursive: true });
  const base = readFileSync(join(core, "Config.uk"), "utf8");
  git(core, "init", "-q", "-b", "main");
  for (const [tag, extra] of [
    ["RELEASE-0.1.0", extra010],
    ["RELEASE-0.2.0", extra020],
  ] as const) {
    writeFileSync(join(core, "Config.uk"), `${base}${extra.join("\n")}\n`);
    git(core, "add", "-A");
    git(core, "commit", "-q", "-m", tag);
    git(core, "tag", "-a", "-m", tag, tag);
  }
  return core;
}

test("moving the core to another release configures again: no .config of the other core's Kconfig is kept", async (t) => {
  const root = scratchDir(t);
  const core = twoReleaseCore(root, ["config LIBFIXTURE_OLD"], ["config LIBFIXTURE_NEW"]);
  const kconfig = { CONFIG_LIBFIXTURE_OLD: "y", CONFIG_LIBFIXTURE_NEW: "y" };
  const at = (version: string) =>
    fixtureProject(root, {
      unikraft: { name: "unikraft", source: { type: "git", url: core, version }, kconfig },
    });
  const env = { ...process.env, KILN_HOME: join(root, "home") };
  const [first] = await buildProject(at("RELEASE-0.1.0"), { env });
  assert.match(readFileSync(first!.configFile, "utf8"), /^CONFIG_LIBFIXTURE_OLD=y$/m);
  const [second] = await buildProject(at("RELEASE-0.2.0"), { env });
  assert.equal(second?.configured, true, "make defconfig ran again for the other core");
  const config = readFileSync(second!.configFile, "utf8");
  assert.match(config, /^CONFIG_LIBFIXTURE_NEW=y$/m);
  assert.doesNotMatch(config, /LIBFIXTURE_OLD/);
});

test("an option renamed between two releases of the core: the warning derives the new name from the trees", async (t) => {
  const root = scratchDir(t);
  // A git core with two releases: 0.1.0 defines LIBFIXTURE_SWRAND, 0.2.0 replaced it by LIBFIXTURE_RANDOM
  // (as Unikraft 0.17 replaced LIBUKSWRAND by LIBUKRANDOM) and dropped LIBFIXTURE_OLDFS outright.
  const core = join(root, "core");
  cpSync(FIXTURE_CORE, core, { recursive: true });
  const base = readFileSync(join(core, "Config.uk"), "utf8");
  const release = (extra: string, tag: string) => {
    writeFileSync(join(core, "Config.uk"), `${base}${extra}`);
    git(core, "add", "-A");
    git(core, "commit", "-q", "-m", tag);
    git(core, "tag", "-a", "-m", tag, tag);
  };
  git(core, "init", "-q", "-b", "main");
  release(
    [
      "menuconfig LIBFIXTURE_SWRAND",
      '\tbool "fixture: Software random number generator"',
      "\thelp",
      "\t\tGenerates random numbers in software.",
      "config LIBFIXTURE_OLDFS",
      '\tbool "Mount the old filesystem"',
      "",
    ].join("\n"),
    "RELEASE-0.1.0",
  );
  release(
    [
      "menuconfig LIBFIXTURE_RANDOM",
      '\tbool "fixture: Random number generation"',
      "\thelp",
      "\t\tGenerates random numbers.",
      "config LIBFIXTURE_TRACE",
      '\tbool "Trace every call"',
      "",
    ].join("\n"),
    "RELEASE-0.2.0",
  );
  const project = fixtureProject(root, {
    unikraft: {
      name: "unikraft",
      source: { type: "git", url: core, version: "RELEASE-0.2.0" },
      kconfig: { CONFIG_LIBFIXTURE_SWRAND: "y", CONFIG_LIBFIXTURE_OLDFS: "y", CONFIG_LIBFIXTURE_NEVER: "y" },
    },
  });
  const reporter = collectingReporter();
  await buildProject(project, { reporter, env: { ...process.env, KILN_HOME: join(root, "home") } });
  const w = reporter.warnings.join("\n");
  assert.match(
    w,
    /CONFIG_LIBFIXTURE_SWRAND=y dropped: CONFIG_LIBFIXTURE_SWRAND does not exist in RELEASE-0\.2\.0 \(RELEASE-0\.1\.0 defined it in Config\.uk\); renamed: use CONFIG_LIBFIXTURE_RANDOM \("fixture: Random number generation"\)$/m,
  );
  assert.match(
    w,
    /CONFIG_LIBFIXTURE_OLDFS=y dropped: CONFIG_LIBFIXTURE_OLDFS does not exist in RELEASE-0\.2\.0 \(RELEASE-0\.1\.0 defined it in Config\.uk\); no symbol added since matches it/,
  );
  assert.match(w, /CONFIG_LIBFIXTURE_NEVER does not exist in RELEASE-0\.2\.0 nor in any of its release tags/);
  assert.doesNotMatch(w, /LIBFIXTURE_TRACE/);
});
