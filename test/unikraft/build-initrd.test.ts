/**
 * A spec v0.5 target's `initrd:` packed by `kiln build` (fixture core): the
 * inputs merged into one newc CPIO at `output`, read back with GNU cpio;
 * repacked only when an input changed; `kiln run` boots with it (the
 * Multiboot stand-in in place of the built image, as test/machine does).
 * Also: compress (gzip, with the ukcpio warning), the target's initrd
 * winning over `rootfs:`, and a missing input reported before make.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { isKilnError } from "../../src/core/errors.js";
import { collectingReporter } from "../../src/core/output.js";
import { buildProject } from "../../src/unikraft/build.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { buildMultibootStandin } from "../machine/guests.js";
import { FIXTURE_CORE, fixtureProject } from "./fixture-project.js";

/** The member names of a CPIO archive, as GNU cpio lists them. */
function cpioNames(archive: string): string[] {
  return execFileSync("cpio", ["-it", "--quiet", "-F", archive], { encoding: "utf8" }).trim().split("\n");
}

/** One member's content, extracted by GNU cpio. */
function cpioFile(archive: string, name: string): string {
  return execFileSync("cpio", ["-i", "--quiet", "--to-stdout", "-F", archive, name], { encoding: "utf8" });
}

function writeInputs(dir: string): void {
  mkdirSync(join(dir, "files", "conf.d"), { recursive: true });
  writeFileSync(join(dir, "files", "app.conf"), "port=80\n");
  writeFileSync(join(dir, "files", "conf.d", "extra.conf"), "debug=1\n");
  writeFileSync(join(dir, "one.txt"), "one\n");
}

test("kiln build packs a v0.5 target's initrd inputs into its output; kiln run boots with it", async (t) => {
  const started = Date.now();
  const root = scratchDir(t);
  const p = fixtureProject(root);
  writeInputs(p.dir);
  writeFileSync(
    p.file,
    [
      'specification: "0.5"',
      "name: hello",
      "unikraft:",
      `  source: ${FIXTURE_CORE}`,
      "libraries:",
      "  foo:",
      `    source: ${join(root, "lib-foo")}`,
      "    kconfig:",
      "      CONFIG_LIBFOO: 'y'",
      "targets:",
      "  - architecture: x86_64",
      "    platform: qemu",
      '    command: ["exit=6"]',
      "    initrd:",
      "      input: [./files:/etc/app, ./one.txt:/one.txt]",
      "      output: ./out/initrd.cpio",
      "",
    ].join("\n"),
  );
  const env = { KILN_HOME: join(root, "home") };
  const r = await runKiln(["build", p.dir, "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  const [built] = (JSON.parse(r.stdout) as { targets: { initrd: string; initrdSizeBytes: number }[] })
    .targets;
  const archive = join(p.dir, "out", "initrd.cpio");
  assert.equal(built?.initrd, archive);
  assert.equal(built.initrdSizeBytes, statSync(archive).size);
  assert.equal(readFileSync(archive).subarray(0, 6).toString(), "070701", "plain newc for ukcpio");
  assert.deepEqual(cpioNames(archive), [
    "etc",
    "etc/app",
    "etc/app/app.conf",
    "etc/app/conf.d",
    "etc/app/conf.d/extra.conf",
    "one.txt",
  ]);
  assert.equal(cpioFile(archive, "etc/app/conf.d/extra.conf"), "debug=1\n");
  assert.equal(cpioFile(archive, "one.txt"), "one\n");

  // Nothing changed: neither make nor the packer runs.
  const packedAt = statSync(archive).mtimeMs;
  const again = await runKiln(["build", p.dir, "--json"], { env });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(
    (JSON.parse(again.stdout) as { targets: { skippedMake: boolean }[] }).targets[0]?.skippedMake,
    true,
  );
  assert.equal(statSync(archive).mtimeMs, packedAt, "unchanged inputs: not repacked");

  // An edited input (stamped in the future, so the change is seen whatever the clock's resolution) repacks.
  writeFileSync(join(p.dir, "one.txt"), "two\n");
  const later = new Date(Date.now() + 60_000);
  utimesSync(join(p.dir, "one.txt"), later, later);
  const third = await runKiln(["build", p.dir], { env });
  assert.equal(third.code, 0, third.stderr);
  assert.equal(cpioFile(archive, "one.txt"), "two\n");

  // kiln run passes that initrd (the fixture image is a host program; the stand-in boots in QEMU).
  copyFileSync(buildMultibootStandin(root), join(p.dir, ".unikraft/build/hello_qemu-x86_64"));
  const run = await runKiln(["run", "-W", "-n", "withinitrd", p.dir], { env });
  assert.equal(run.code, 6, `${run.stderr}\n${run.stdout}`);
  const inspect = await runKiln(["inspect", "withinitrd", "--json"], { env });
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.equal((JSON.parse(inspect.stdout) as { spec: { initrd?: string } }).spec.initrd, archive);
  t.diagnostic(`took ${Date.now() - started} ms`);
});

test("compress gzips the initrd (with a warning for Unikraft); the target's initrd wins over rootfs:", async (t) => {
  const root = scratchDir(t);
  const rootfs = join(root, "rootfs");
  mkdirSync(rootfs);
  writeFileSync(join(rootfs, "from-rootfs"), "x\n");
  const project = fixtureProject(root, { specification: "0.5", rootfs: { source: rootfs, format: "cpio" } });
  writeInputs(project.dir);
  project.targets[0]!.initrd = {
    inputs: [{ source: join(project.dir, "files"), destination: "/" }],
    format: "cpio",
    compress: true,
  };
  const reporter = collectingReporter();
  const [r] = await buildProject(project, { reporter });
  // No `output`: the target's standard initrd path.
  assert.equal(r?.initrd, join(project.outdir, "initramfs-x86_64.cpio"));
  const data = readFileSync(r.initrd);
  assert.deepEqual([...data.subarray(0, 2)], [0x1f, 0x8b], "gzip magic");
  const plain = join(root, "plain.cpio");
  writeFileSync(plain, gunzipSync(data));
  assert.deepEqual(cpioNames(plain), ["app.conf", "conf.d", "conf.d/extra.conf"]);
  assert.ok(
    reporter.warnings.some((w) =>
      /compress is set, but Unikraft's ukcpio reads only plain newc CPIO/.test(w),
    ),
    reporter.warnings.join("\n"),
  );
  assert.ok(
    reporter.warnings.some((w) =>
      /the target's own initrd is used; the project's rootfs \S+rootfs is not packed/.test(w),
    ),
    reporter.warnings.join("\n"),
  );
});

test("a missing initrd input is an error naming it, before make runs", async (t) => {
  const root = scratchDir(t);
  const project = fixtureProject(root, { specification: "0.5" });
  project.targets[0]!.initrd = {
    inputs: [{ source: join(project.dir, "nope"), destination: "/nope" }],
    format: "cpio",
    compress: false,
  };
  await assert.rejects(buildProject(project), (e) => {
    assert.ok(isKilnError(e, "BUILD_INITRD_INPUT_MISSING"), String(e));
    assert.match(
      e.message,
      /initrd input \S+\/app\/nope of target hello_qemu-x86_64 does not exist \(ENOENT\)/,
    );
    assert.match(e.hint ?? "", /initrd\.input/);
    return true;
  });
  assert.throws(() => statSync(join(project.outdir, "hello_qemu-x86_64")), "make did not run");
});
