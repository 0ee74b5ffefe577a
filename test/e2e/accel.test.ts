/**
 * Acceleration end to end (issue 8): the README's main job exactly as written
 * (no -W) ends on any host — KVM working, aborting, or PVM-only — with at most
 * one notice; KILN_ACCEL pins the choice; KILN_ACCEL=kvm on a host whose KVM
 * cannot run guests fails before anything starts, with the probe's reason.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { probeKvm } from "../../src/machine/qemu/accel.js";
import { debianKernel, noBusybox, noQemu, prepareLinuxRootfs } from "../helpers/guests.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { buildMultibootStandin } from "../machine/guests.js";

const { kernel, skip: noKernel } = debianKernel();
const skip = noQemu() ?? noKernel ?? noBusybox();

test("the README's main job without -W boots and stops at the greeting, with at most one acceleration notice", {
  skip,
  timeout: 300_000,
}, async (t) => {
  const dir = scratchDir(t);
  const rootfs = prepareLinuxRootfs(join(dir, "rootfs"), kernel!);
  const started = Date.now();
  // The README's line, with a fresh KILN_HOME (so the probe really runs) and no KILN_ACCEL.
  const r = await runKiln(
    ["run", "--rm", kernel!, "--initrd", rootfs, "-a", "quiet", "--wait-for", "hello from"],
    {
      env: { KILN_HOME: dir, KILN_ACCEL: "" },
    },
  );
  t.diagnostic(`main job took ${Date.now() - started} ms; stderr: ${r.stderr.trim()}`);
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout.slice(-2000)}`);
  assert.match(r.stdout, /hello from Linux .* in a Kiln microVM/);
  const kvm = await probeKvm("x86_64", undefined, { KILN_HOME: dir });
  const notices = r.stderr.split("\n").filter((l) => /KVM/.test(l));
  assert.equal(notices.length, kvm.usable ? 0 : 1, r.stderr);
  if (!kvm.usable) assert.match(notices[0]!, /^notice: KVM is not usable \(.+\); using TCG/);
});

test("KILN_ACCEL=tcg: no probe and no notice; the machine records tcg", { skip: noQemu() }, async (t) => {
  const dir = scratchDir(t);
  const r = await runKiln(["run", "-n", "pinned", buildMultibootStandin(dir), "-a", "exit=3"], {
    env: { KILN_HOME: dir, KILN_ACCEL: "tcg" },
  });
  assert.equal(r.code, 3, r.stderr);
  assert.doesNotMatch(r.stderr, /KVM/);
  const ps = await runKiln(["ps", "-a", "--json"], { env: { KILN_HOME: dir } });
  assert.equal((JSON.parse(ps.stdout) as { accel: string }[])[0]?.accel, "tcg");
});

test("accel: tcg in config.yaml pins the choice; a bad KILN_ACCEL is refused naming the rule", {
  skip: noQemu(),
}, async (t) => {
  const dir = scratchDir(t);
  const { mkdirSync, writeFileSync } = await import("node:fs");
  mkdirSync(join(dir, "config"), { recursive: true });
  writeFileSync(join(dir, "config", "config.yaml"), "accel: tcg\n");
  const standin = buildMultibootStandin(dir);
  const r = await runKiln(["run", "--rm", standin, "-a", "exit=3"], {
    env: { KILN_HOME: dir, KILN_ACCEL: "" },
  });
  assert.equal(r.code, 3, r.stderr);
  assert.doesNotMatch(r.stderr, /KVM/);
  const bad = await runKiln(["run", "--rm", standin], { env: { KILN_HOME: dir, KILN_ACCEL: "fast" } });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /error: KILN_ACCEL must be one of auto, kvm, tcg; got "fast"/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /, "no stack trace");
});

test("KILN_ACCEL=kvm where the probe finds KVM unusable: refused before start, with the probe's reason", {
  skip: noQemu(),
}, async (t) => {
  const dir = scratchDir(t);
  const kvm = await probeKvm("x86_64", undefined, { KILN_HOME: dir });
  if (kvm.usable) {
    t.skip("KVM works on this host");
    return;
  }
  const r = await runKiln(["run", "--rm", buildMultibootStandin(dir)], {
    env: { KILN_HOME: dir, KILN_ACCEL: "kvm" },
  });
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes(`KVM was requested but does not work here: ${kvm.reason}`), r.stderr);
  assert.match(r.stderr, /KILN_ACCEL=tcg/);
});
