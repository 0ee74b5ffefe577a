/**
 * The KVM probe (issue 8): its guests boot under TCG on every machine (so the
 * guest code itself is proven where KVM is absent or broken), the verdict
 * logic for each failure class, the deadline, and the accel setting.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { parse as parseYaml } from "yaml";
import { which } from "../../src/core/exec.js";
import { accelSettingFrom } from "../../src/machine/accel-setting.js";
import {
  judgeProbe,
  kvmDeviceProblem,
  type ProbeRun,
  probeKvm,
  runProbeGuest,
} from "../../src/machine/qemu/accel.js";
import { PROBE_MARKER } from "../../src/machine/qemu/probe-guest.js";
import { scratchDir } from "../helpers/kiln.js";

const noX86 = which("qemu-system-x86_64") ? undefined : "qemu-system-x86_64 missing";
const noArm = which("qemu-system-aarch64") ? undefined : "qemu-system-aarch64 missing";

test("x86_64 probe guest reaches long mode, copies, prints the marker and exits 33 under TCG", {
  skip: noX86,
}, async (t) => {
  const run = await runProbeGuest("x86_64", "qemu-system-x86_64", "tcg", {
    cacheDir: scratchDir(t),
    deadlineMs: 60_000,
  });
  t.diagnostic(`probe guest under TCG took ${run.durationMs} ms`);
  assert.equal(run.timedOut, false);
  assert.equal(run.exitCode, 33, run.stderr);
  assert.equal(run.serial, `${PROBE_MARKER}\n`);
  assert.deepEqual(judgeProbe(run).usable, true);
});

test("arm64 probe guest prints the marker and powers off through PSCI under TCG", {
  skip: noArm,
}, async (t) => {
  const run = await runProbeGuest("arm64", "qemu-system-aarch64", "tcg", {
    cacheDir: scratchDir(t),
    deadlineMs: 60_000,
  });
  t.diagnostic(`arm64 probe guest under TCG took ${run.durationMs} ms`);
  assert.equal(run.exitCode, 0, run.stderr);
  assert.equal(run.serial, `${PROBE_MARKER}\n`);
  assert.equal(judgeProbe(run).usable, true);
});

test("a probe guest that misses its deadline is killed and judged unusable", { skip: noX86 }, async (t) => {
  const run = await runProbeGuest("x86_64", "qemu-system-x86_64", "tcg", {
    cacheDir: scratchDir(t),
    deadlineMs: 1,
    pvm: true,
  });
  assert.equal(run.timedOut, true);
  const v = judgeProbe(run);
  assert.equal(v.usable, false);
  assert.match(v.reason!, /did not reach long mode and finish its work within 0\.001 s \(kvm_pvm loaded/);
});

const base: ProbeRun = {
  architecture: "x86_64",
  exitCode: 33,
  serial: `${PROBE_MARKER}\n`,
  stderr: "",
  timedOut: false,
  deadlineMs: 2000,
  durationMs: 80,
  pvm: false,
};

test("judgeProbe: each failure class gets its own one-line reason", () => {
  assert.deepEqual(judgeProbe(base), { usable: true, durationMs: 80 });
  // The earlier host kind: QEMU aborts when it resets the vCPU.
  const abort = judgeProbe({
    ...base,
    exitCode: null,
    serial: "",
    stderr:
      "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x0\nqemu-system-x86_64: ../target/i386/kvm/kvm.c:3001: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.\n",
  });
  assert.deepEqual(abort.usable, false);
  assert.equal(abort.reason, "QEMU aborted: failed to set MSR 0x10a to 0x0");
  // A PVM host: firmware runs, the guest does not get through in time.
  const pvm = judgeProbe({ ...base, exitCode: null, serial: "", timedOut: true, pvm: true });
  assert.equal(
    pvm.reason,
    "the probe guest did not reach long mode and finish its work within 2 s (kvm_pvm loaded: this host's KVM runs only PVM guests at full speed)",
  );
  const slow = judgeProbe({ ...base, exitCode: null, timedOut: true });
  assert.equal(slow.reason, "the probe guest did not exit within 2 s");
  const nolm = judgeProbe({ ...base, exitCode: 35, serial: "KILN-PROBE-NO-LONG-MODE\n" });
  assert.equal(nolm.reason, "the probe guest ran but long mode was not active");
  // The marker without the exit status (or the reverse) is not success.
  assert.equal(judgeProbe({ ...base, serial: "" }).usable, false);
  assert.equal(judgeProbe({ ...base, exitCode: 1 }).usable, false);
  const spawnFail = judgeProbe({ ...base, exitCode: null, spawnError: "spawn qemu-system-x86_64 ENOENT" });
  assert.equal(spawnFail.reason, "spawn qemu-system-x86_64 ENOENT");
  // arm64 succeeds with status 0 (PSCI SYSTEM_OFF).
  assert.equal(judgeProbe({ ...base, architecture: "arm64", exitCode: 0 }).usable, true);
});

test("kvmDeviceProblem: no device, no permission, fine", async () => {
  const fail = (code: string) => async () => {
    throw Object.assign(new Error(code), { code });
  };
  assert.match((await kvmDeviceProblem("/dev/kvm", fail("ENOENT")))!, /^no \/dev\/kvm/);
  assert.match(
    (await kvmDeviceProblem("/dev/kvm", fail("EACCES")))!,
    /^permission denied on \/dev\/kvm \(add yourself to group kvm/,
  );
  assert.equal(await kvmDeviceProblem("/dev/kvm", async () => {}), undefined);
});

test("probeKvm on this host: a verdict without hanging; a PVM host's KVM is never usable", {
  skip: noX86,
}, async (t) => {
  const started = Date.now();
  const v = await probeKvm("x86_64", "qemu-system-x86_64", { KILN_HOME: scratchDir(t) });
  t.diagnostic(`verdict in ${Date.now() - started} ms: ${JSON.stringify(v)}`);
  if (existsSync("/sys/module/kvm_pvm")) {
    assert.equal(v.usable, false);
    assert.match(v.reason!, /kvm_pvm loaded/);
  }
  if (!existsSync("/dev/kvm")) assert.match(v.reason!, /^no \/dev\/kvm/);
});

/** A config file's text as readAccelSetting passes it (with the YAML parser it loads). */
const config = (text: string, file = "config.yaml") => ({ text, file, parse: parseYaml });

test("accel setting: KILN_ACCEL, then the config file's accel:, else auto; bad values name the rule", () => {
  assert.deepEqual(accelSettingFrom({}), { request: "auto", source: "default" });
  assert.deepEqual(accelSettingFrom({ KILN_ACCEL: "TCG" }, config("accel: kvm\n")), {
    request: "tcg",
    source: "KILN_ACCEL",
  });
  assert.deepEqual(accelSettingFrom({}, config("accel: kvm\n", "/c/config.yaml")), {
    request: "kvm",
    source: "/c/config.yaml",
  });
  assert.deepEqual(accelSettingFrom({}, config("mirrors: []\n")), { request: "auto", source: "default" });
  assert.throws(
    () => accelSettingFrom({ KILN_ACCEL: "fast" }),
    /KILN_ACCEL must be one of auto, kvm, tcg; got "fast"/,
  );
  assert.throws(
    () => accelSettingFrom({}, config("accel: 3\n", "/c/config.yaml")),
    /"accel" in \/c\/config.yaml must be one of/,
  );
});
