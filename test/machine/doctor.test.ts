/**
 * `kiln doctor` (issue 8): the real report on this host agrees with the probe;
 * a host without QEMU (an empty PATH) is "not ok" with the package to install;
 * a pin to KVM where it does not work is a problem; the text names each fix.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { probeKvm } from "../../src/machine/qemu/accel.js";
import { type DoctorReport, formatDoctor } from "../../src/orchestration/doctor.js";
import { noQemu } from "../helpers/guests.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";

test("kiln doctor --json on this host: one document that agrees with the KVM probe; exit 0 with QEMU present", {
  skip: noQemu(),
}, async (t) => {
  const dir = scratchDir(t);
  const r = await runKiln(["doctor", "--json"], { env: { KILN_HOME: dir, KILN_ACCEL: "" } });
  const doc = JSON.parse(r.stdout) as DoctorReport;
  const kvm = await probeKvm("x86_64", undefined, { KILN_HOME: dir });
  assert.equal(doc.kvm.usable, kvm.usable);
  assert.equal(doc.kvm.reason, kvm.reason);
  assert.equal(doc.accel.willUse, kvm.usable ? "kvm" : "tcg");
  assert.equal(doc.qemu.find((q) => q.architecture === "x86_64")?.path !== undefined, true);
  assert.equal(r.code, doc.ok ? 0 : 1, r.stderr);
  const text = await runKiln(["doctor"], { env: { KILN_HOME: dir, KILN_ACCEL: "" } });
  assert.match(text.stdout, kvm.usable ? /^kvm +ok usable/m : /^kvm +-- not usable: /m);
});

test("kiln doctor without QEMU on PATH: exit 1, naming the package; KILN_ACCEL=kvm on an unusable KVM is a problem", async (t) => {
  const dir = scratchDir(t);
  const empty = join(dir, "bin");
  mkdirSync(empty);
  const r = await runKiln(["doctor"], { env: { KILN_HOME: dir, PATH: empty, KILN_ACCEL: "" } });
  assert.equal(r.code, 1, r.stdout);
  assert.match(
    r.stdout,
    /^qemu +-- x86_64: qemu-system-x86_64 missing \(apt-get install qemu-system-x86\)$/m,
  );
  assert.match(r.stdout, /^problem: qemu-system-x86_64 is missing: apt-get install qemu-system-x86$/m);
  assert.match(
    r.stdout,
    /^tools +-- rootfs EROFS images: mkfs.erofs missing \(apt-get install erofs-utils\)$/m,
  );
  const kvm = await probeKvm("x86_64", undefined, { KILN_HOME: dir });
  if (!kvm.usable) {
    const pinned = await runKiln(["doctor", "--json"], { env: { KILN_HOME: dir, KILN_ACCEL: "kvm" } });
    assert.equal(pinned.code, 1);
    const doc = JSON.parse(pinned.stdout) as DoctorReport;
    assert.ok(
      doc.problems.some((p) => p.startsWith("accel is pinned to kvm (KILN_ACCEL) but KVM is not usable")),
    );
  }
});

test("formatDoctor: missing firmware and tools each name their package; an ok host says so", () => {
  const report: DoctorReport = {
    ok: false,
    host: { architecture: "x86_64", kernel: "6.1.0", cpus: 2 },
    qemu: [
      {
        architecture: "x86_64",
        binary: "qemu-system-x86_64",
        path: "/usr/bin/qemu-system-x86_64",
        version: "7.2.22",
        package: "qemu-system-x86",
      },
    ],
    kvm: {
      usable: false,
      reason: "permission denied on /dev/kvm (add yourself to group kvm)",
      device: true,
      pvm: false,
    },
    accel: { setting: "auto", source: "default", willUse: "tcg" },
    firmware: [{ file: "bios-256k.bin", neededFor: "-M pc", package: "seabios" }],
    features: [
      { feature: "rootfs EROFS images", found: {}, missing: { "mkfs.erofs": "erofs-utils" }, ok: false },
    ],
    unikraft: { sourcesCache: "/c/sources", cachedSources: 2, mirrors: [{ mirror: "/m", exists: false }] },
    problems: ["QEMU firmware bios-256k.bin is missing (-M pc): apt-get install seabios"],
  };
  const text = formatDoctor(report);
  assert.match(text, /^kvm +-- not usable: permission denied on \/dev\/kvm \(add yourself to group kvm\)$/m);
  assert.match(text, /^firmware +!! bios-256k.bin missing, needed for -M pc \(apt-get install seabios\)$/m);
  assert.match(text, /^unikraft +sources cache \/c\/sources \(2 entries\); mirrors: \/m \(missing\)$/m);
  assert.match(text, /^problem: QEMU firmware bios-256k.bin is missing/m);
  assert.match(
    formatDoctor({ ...report, ok: true, problems: [] }),
    /^ok: kiln run can boot guests on this host$/m,
  );
});
