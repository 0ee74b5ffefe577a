/**
 * The tutorial's app-sqlite `kraft.yaml` (spec 0.5, list-form kconfig, six
 * named targets, `fc` platform), extracted from ../shared/seeds at test time.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadProject } from "../../src/kraftfile/index.js";
import { SHARED_SEEDS, scratchDir, sharedSkip } from "../helpers/kiln.js";

const skip = sharedSkip("seeds");

function sqliteKraftYaml(): string {
  const seed = readdirSync(SHARED_SEEDS).find((f) => f.startsWith("000_"));
  assert.ok(seed, "seed 000_* present");
  const text = readFileSync(join(SHARED_SEEDS, seed), "utf8");
  const block = /```shell\n(specification: '0\.5'[\s\S]*?)```/.exec(text);
  assert.ok(block, "the seed holds a kraft.yaml block starting with `specification: '0.5'`");
  return block[1]!;
}

test("the seed's app-sqlite kraft.yaml (spec 0.5) loads with 6 targets, musl and sqlite", {
  skip,
}, async (t) => {
  const dir = join(scratchDir(t), "app-sqlite");
  (await import("node:fs")).mkdirSync(dir);
  writeFileSync(join(dir, "kraft.yaml"), sqliteKraftYaml());
  const { project: p, diagnostics } = await loadProject(dir, { env: {} });
  assert.deepEqual(diagnostics, []);
  assert.equal(p.specification, "0.5");
  assert.equal(p.name, "sqlite");
  assert.equal(p.file, join(dir, "kraft.yaml"));
  assert.deepEqual(p.unikraft?.source, {
    type: "git",
    url: "https://github.com/unikraft/unikraft",
    version: "stable",
  });
  assert.deepEqual(p.unikraft?.kconfig, {
    CONFIG_LIBUKLIBPARAM: "y",
    CONFIG_LIBUKMMAP: "y",
    CONFIG_LIBPOSIX_SYSINFO: "y",
  });
  assert.deepEqual(
    p.targets.map((x) => [x.name, x.platform, x.architecture]),
    [
      ["sqlite-qemu-x86_64-9pfs", "qemu", "x86_64"],
      ["sqlite-qemu-x86_64-initrd", "qemu", "x86_64"],
      ["sqlite-qemu-arm64-9pfs", "qemu", "arm64"],
      ["sqlite-qemu-arm64-initrd", "qemu", "arm64"],
      ["sqlite-fc-x86_64-initrd", "firecracker", "x86_64"],
      ["sqlite-fc-arm64-initrd", "firecracker", "arm64"],
    ],
  );
  // List-form values are kept exactly as written after `=`, quotes included.
  assert.equal(p.targets[0]!.kconfig.CONFIG_LIBVFSCORE_ROOTFS, '"9pfs"');
  assert.equal(p.targets[4]!.kconfig.CONFIG_KVM_VMM_FIRECRACKER, "y");
  assert.deepEqual(
    p.libraries.map((l) => [l.name, l.source, l.kconfig]),
    [
      ["musl", { type: "git", url: "https://github.com/unikraft/lib-musl", version: "stable" }, {}],
      [
        "sqlite",
        { type: "git", url: "https://github.com/unikraft/lib-sqlite", version: "stable" },
        { CONFIG_LIBSQLITE_MAIN_FUNCTION: "y" },
      ],
    ],
  );
});
