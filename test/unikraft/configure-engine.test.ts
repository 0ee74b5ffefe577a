/**
 * `kiln build` configuring through Kiln's Kconfig engine on the fixture core
 * (test/fixtures/unikraft-core, laid out as Unikraft's Config.uk files are:
 * `$(UK_BASE)` paths, config-submenu.sh lists for platforms, libraries and
 * the application): no `make defconfig` runs, the `.config` is what the
 * Kraftfile asks for, every entry that does not survive is a warning with
 * its reason (an error with --strict), and a tree the engine cannot read
 * falls back to make.
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { collectingReporter } from "../../src/core/output.js";
import { runTargetConfig } from "../../src/orchestration/target-config.js";
import {
  buildProjectWithEngine,
  configureFromPlan,
  droppedOptions,
  openTargetKconfig,
} from "../../src/orchestration/unikraft-config.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { FIXTURE_CORE, fixtureProject, target, writeFixtureKraftfile } from "./fixture-project.js";

const makeRuns = (buildDir: string) =>
  existsSync(join(buildDir, ".fixture-make-runs"))
    ? readFileSync(join(buildDir, ".fixture-make-runs"), "utf8").trim().split("\n")
    : [];

test("the fixture target's .config comes from the engine: libraries listed, Kraftfile values, Kiln's adjustment", async (t) => {
  const root = scratchDir(t);
  const p = fixtureProject(root, { env: { GREETING: "hi" } });
  const tk = await openTargetKconfig(p, p.targets[0]!, { fetch: false });
  const c = configureFromPlan(tk);
  const text = c.dotconfig();
  assert.match(text, /^# Unikraft\/0\.17\.0\S* Configuration$/m);
  assert.match(text, new RegExp(`^CONFIG_UK_APP="${p.dir}"$`, "m"));
  // the core's libraries (config-submenu.sh -r lib), then the project's (-c L=), in order
  assert.match(
    text,
    /# Library Configuration\n#\nCONFIG_LIBPOSIX_ENVIRON=y\nCONFIG_LIBPOSIX_ENVIRON_ENVP0="GREETING=hi"\n/,
  );
  assert.match(text, /^# CONFIG_LIBUKRANDOM is not set$/m);
  assert.match(text, /^CONFIG_LIBFOO=y\n# end of Library Configuration$/m);
  // an empty menu gets no "# end of" line in Unikraft's conf (Linux 5.2), unlike 6.1's
  assert.match(text, /^# Application Options\n#\n\n#\n# Build Options$/m);
  assert.match(text, /^CONFIG_UK_NAME="hello"$/m);
  assert.deepEqual(droppedOptions(tk, c, text), []);
});

test("kiln build configures without make defconfig; dropped entries are warnings with the blocking term, errors with --strict", async (t) => {
  const root = scratchDir(t);
  const p = fixtureProject(root);
  p.targets = [
    target("hello_qemu-x86_64", "qemu", "x86_64", {
      CONFIG_LIBVFSCORE: "y",
      CONFIG_LIBVFSCORE_ROOTFS_INITRD: "y",
      CONFIG_LIBVFSCORE_NFILES: "8",
    }),
  ];
  const reporter = collectingReporter();
  const env = { ...process.env, KILN_HOME: join(root, "home") };
  const [r] = await buildProjectWithEngine(p, { reporter, env, jobs: 2 });
  const buildDir = join(p.outdir, "targets", "hello_qemu-x86_64");
  assert.deepEqual(makeRuns(buildDir), ["all"], "make ran only to build");
  assert.equal(r?.configured, true);
  const cfg = readFileSync(r!.configFile, "utf8");
  assert.match(cfg, /^CONFIG_LIBVFSCORE=y$/m);
  assert.match(cfg, /^CONFIG_LIBVFSCORE_NFILES=64$/m);
  const w = reporter.warnings.join("\n");
  assert.match(
    w,
    /hello_qemu-x86_64: CONFIG_LIBVFSCORE_ROOTFS_INITRD=y dropped: depends on LIBVFSCORE && LIBUKCPIO && LIBUKRANDOM — LIBUKCPIO is not defined \(n\), LIBUKRANDOM is n/,
  );
  assert.match(w, /CONFIG_LIBVFSCORE_NFILES=8 dropped: outside its range 16\.\.4096/);
  // --json's missingOptions carry the same reasons
  assert.match(
    r?.missingOptions.find((m) => m.name === "CONFIG_LIBVFSCORE_ROOTFS_INITRD")?.reason ?? "",
    /^depends on LIBVFSCORE && LIBUKCPIO && LIBUKRANDOM — /,
  );

  await assert.rejects(
    buildProjectWithEngine(p, { reporter, env, strict: true }),
    (e: Error & { details?: string[] }) => {
      assert.match(
        e.message,
        /hello_qemu-x86_64: 2 requested Kconfig option\(s\) did not survive \(--strict\)/,
      );
      assert.match(e.details?.join("\n") ?? "", /CONFIG_LIBVFSCORE_ROOTFS_INITRD=y dropped: depends on/);
      return true;
    },
  );
});

test("kiln build --strict from the command line names the Kraftfile line of a dropped entry", async (t) => {
  const root = scratchDir(t);
  const p = fixtureProject(root);
  writeFixtureKraftfile(root, {
    core: ["# the core's own options", "CONFIG_LIBVFSCORE_ROOTFS_INITRD: 'y'"],
    targets: ["qemu/x86_64"],
  });
  const env = { KILN_HOME: join(root, "home") };
  const r = await runKiln(["build", p.dir, "--strict"], { env });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /1 requested Kconfig option\(s\) did not survive \(--strict\)/);
  assert.match(
    r.stderr,
    /CONFIG_LIBVFSCORE_ROOTFS_INITRD=y dropped: depends on LIBVFSCORE && .*\(Kraftfile line 7\)/,
  );
  assert.equal(makeRuns(join(p.outdir, "targets", "hello_qemu-x86_64")).length, 0, "make never ran");
});

test("a core whose Config.uk the engine cannot parse is configured by make defconfig, said once", async (t) => {
  const root = scratchDir(t);
  const core = join(root, "core");
  cpSync(FIXTURE_CORE, core, { recursive: true });
  writeFileSync(
    join(core, "Config.uk"),
    `${readFileSync(join(core, "Config.uk"), "utf8")}\nconfig BROKEN\n\tbool "x" if (\n`,
  );
  const p = fixtureProject(root, {
    unikraft: { name: "unikraft", source: { type: "directory", path: core }, kconfig: {} },
  });
  const reporter = collectingReporter();
  const [r] = await buildProjectWithEngine(p, {
    reporter,
    env: { ...process.env, KILN_HOME: join(root, "home") },
  });
  assert.deepEqual(makeRuns(join(p.outdir, "targets", "hello_qemu-x86_64")), ["defconfig", "all"]);
  assert.equal(r?.configured, true);
  const said = reporter.warnings.filter((w) => /Kconfig engine cannot read this Unikraft tree/.test(w));
  assert.equal(said.length, 1);
  assert.match(said[0]!, /Config\.uk:\d+/);
});

test("a .config changed after configuring (kiln config set -t) is kept by the next build, which says what differs from the Kraftfile", async (t) => {
  const root = scratchDir(t);
  const p = fixtureProject(root);
  p.unikraft!.kconfig = { CONFIG_STACK_SIZE_PAGE_ORDER: "5" };
  const env = { ...process.env, KILN_HOME: join(root, "home") };
  await buildProjectWithEngine(p, { reporter: collectingReporter(), env });
  const set = await runTargetConfig(
    p,
    p.targets[0]!,
    { verb: "set", args: ["STACK_SIZE_PAGE_ORDER=6"] },
    { fetch: false },
  );
  assert.deepEqual(set.set?.applied, [{ symbol: "STACK_SIZE_PAGE_ORDER", value: "6" }]);
  const reporter = collectingReporter();
  const [r] = await buildProjectWithEngine(p, { reporter, env });
  assert.equal(r?.configured, false, "the Kraftfile did not change: its .config is kept");
  assert.match(readFileSync(r!.configFile, "utf8"), /^CONFIG_STACK_SIZE_PAGE_ORDER=6$/m);
  assert.match(
    reporter.warnings.join("\n"),
    /CONFIG_STACK_SIZE_PAGE_ORDER=5 dropped: 6 in \.config\.hello_qemu-x86_64, changed after it was configured from the Kraftfile \(kiln config defconfig -t hello_qemu-x86_64 starts again from it\)/,
  );
});
