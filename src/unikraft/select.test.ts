import assert from "node:assert/strict";
import { test } from "node:test";
import { isKilnError } from "../core/errors.js";
import type { Project, Target } from "../kraftfile/types.js";
import { selectTargets } from "./select.js";

const t = (platform: Target["platform"], architecture: Target["architecture"]): Target => ({
  name: `hw_${platform === "firecracker" ? "fc" : platform}-${architecture}`,
  platform,
  architecture,
  kconfig: {},
});
const project = {
  file: "/p/Kraftfile",
  name: "hw",
  targets: [t("qemu", "x86_64"), t("qemu", "arm64"), t("firecracker", "x86_64")],
} as Project;

test("selects by name, platform alias and architecture alias", () => {
  assert.deepEqual(
    selectTargets(project, { name: "hw_qemu-arm64" }).map((x) => x.name),
    ["hw_qemu-arm64"],
  );
  assert.deepEqual(
    selectTargets(project, { platform: "fc" }).map((x) => x.name),
    ["hw_fc-x86_64"],
  );
  assert.deepEqual(
    selectTargets(project, { platform: "kvm", architecture: "aarch64" }).map((x) => x.name),
    ["hw_qemu-arm64"],
  );
  assert.equal(selectTargets(project, { architecture: "amd64", all: true }).length, 2);
  assert.equal(selectTargets({ ...project, targets: [t("qemu", "x86_64")] } as Project, {}).length, 1);
});

test("a filter matching nothing is an error listing the targets (kraftkit#563)", () => {
  assert.throws(
    () => selectTargets(project, { platform: "xen" }),
    (e) => {
      assert.ok(isKilnError(e, "TARGET_NOT_FOUND"));
      assert.match(e.message, /no target of hw matches -p xen/);
      assert.deepEqual(e.details, [
        "targets:",
        "  hw_qemu-x86_64 (qemu/x86_64)",
        "  hw_qemu-arm64 (qemu/arm64)",
        "  hw_fc-x86_64 (firecracker/x86_64)",
      ]);
      return true;
    },
  );
  assert.throws(() => selectTargets(project, { platform: "vmware" }), /unknown platform "vmware"/);
});

test("several candidates without --all is an error listing them", () => {
  assert.throws(
    () => selectTargets(project, { architecture: "x86_64" }),
    (e) => {
      assert.ok(isKilnError(e, "TARGET_AMBIGUOUS"));
      assert.match(e.message, /^2 targets match -m x86_64; choose one or pass --all$/);
      return true;
    },
  );
});
