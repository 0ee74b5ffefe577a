/**
 * Spec v0.5 targets with `command` and `initrd` (KraftKit's schema v0.5
 * `definitions.target`): accepted without warnings, normalized into
 * `Target.cmd` and `Target.initrd`, shown by `kiln inspect`.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readProject } from "../../src/kraftfile/index.js";
import { REPO_ROOT, runKiln, SHARED_DATA, sharedSkip } from "../helpers/kiln.js";

const DIR = join(REPO_ROOT, "test/fixtures/kraftfile/v05-target");

test("KraftKit's v0.5 schema defines target `initrd` and `command` (the keys Kiln reads)", {
  skip: sharedSkip("data/kraftkit/kraftfile-v0.5.json"),
}, () => {
  const schema = JSON.parse(readFileSync(join(SHARED_DATA, "kraftkit/kraftfile-v0.5.json"), "utf8"));
  assert.deepEqual(Object.keys(schema.definitions.target.properties).sort(), [
    "architecture",
    "command",
    "initrd",
    "name",
    "platform",
  ]);
  assert.deepEqual(Object.keys(schema.definitions.initrd.properties).sort(), [
    "compress",
    "format",
    "input",
    "output",
  ]);
});

test("a v0.5 target's command and initrd load without warnings", async () => {
  const r = await readProject(DIR, { env: {} });
  assert.deepEqual(r.diagnostics, []);
  const [qemu, fc, arm] = r.project!.targets;
  assert.deepEqual(qemu!.cmd, ["/bin/hello", "--greeting", "hi there"]);
  assert.deepEqual(qemu!.initrd, {
    inputs: [
      { source: join(DIR, "rootfs"), destination: "/" },
      { source: join(DIR, "extra/etc"), destination: "/etc" },
    ],
    output: join(DIR, "build/initramfs.cpio"),
    format: "cpio",
    compress: true,
  });
  // The list form of `command`, and KraftKit's `DIR:OUTPUT` short form of `initrd`.
  assert.deepEqual(fc!.cmd, ["/bin/hello", "--quiet"]);
  assert.deepEqual(fc!.initrd, {
    inputs: [{ source: join(DIR, "rootfs"), destination: "/" }],
    output: join(DIR, "build/fc.cpio"),
    format: "cpio",
    compress: false,
  });
  // A target without them has neither field; the project's `cmd` applies to it.
  assert.equal("cmd" in arm!, false);
  assert.equal("initrd" in arm!, false);
  assert.deepEqual(r.project!.cmd, []);
});

test("kiln validate and kiln inspect --json on the v0.5 project", async () => {
  const v = await runKiln(["validate", DIR]);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout, `ok: ${join(DIR, "Kraftfile")} (spec v0.5, 3 targets)\n`);
  const r = await runKiln(["inspect", "--json", DIR]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  const p = JSON.parse(r.stdout);
  assert.deepEqual(p.targets[0].cmd, ["/bin/hello", "--greeting", "hi there"]);
  assert.equal(p.targets[0].initrd.output, join(DIR, "build/initramfs.cpio"));
  assert.deepEqual(
    p.targets[1].initrd.inputs.map((i: { destination: string }) => i.destination),
    ["/"],
  );
  const text = await runKiln(["inspect", DIR]);
  assert.match(text.stdout, /^ +cmd "\/bin\/hello" "--quiet"$/m);
  assert.match(
    text.stdout,
    new RegExp(`^ +initrd ${join(DIR, "rootfs")}:/ -> ${join(DIR, "build/fc.cpio")}$`, "m"),
  );
});
