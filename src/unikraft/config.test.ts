import assert from "node:assert/strict";
import { test } from "node:test";
import type { Project, Target } from "../kraftfile/types.js";
import {
  defconfigText,
  libraryEnableSymbol,
  missingOptions,
  parseVersionMk,
  planKconfig,
  stdinWarning,
} from "./config.js";

const target = (
  platform: Target["platform"],
  architecture: Target["architecture"],
  kconfig = {},
): Target => ({
  name: `app_${platform}-${architecture}`,
  platform,
  architecture,
  kconfig,
});

function project(over: Partial<Project> = {}): Project {
  return {
    file: "/p/Kraftfile",
    dir: "/p",
    specification: "0.6",
    name: "app",
    outdir: "/p/.unikraft/build",
    unikraft: {
      name: "unikraft",
      source: { type: "directory", path: "/u" },
      kconfig: { CONFIG_A: "y", CONFIG_B: "1" },
    },
    cmd: [],
    env: {},
    labels: {},
    volumes: [],
    targets: [],
    libraries: [
      { name: "one", source: { type: "directory", path: "/l1" }, kconfig: { CONFIG_B: "2", CONFIG_C: "y" } },
      { name: "two", source: { type: "directory", path: "/l2" }, kconfig: { CONFIG_C: "n" } },
    ],
    extensions: {},
    ...over,
  };
}

test("merges core, libraries, target symbols, target kconfig and env in KraftKit's order", () => {
  const p = project({ env: { HOME: "/", MSG: 'say "hi"' } });
  const plan = planKconfig(p, target("firecracker", "arm64", { CONFIG_A: "n" }));
  assert.deepEqual(plan.options, {
    CONFIG_LIBONE: "y",
    CONFIG_B: "2",
    CONFIG_LIBTWO: "y",
    CONFIG_C: "n",
    CONFIG_ARCH_ARM_64: "y",
    CONFIG_PLAT_KVM: "y",
    CONFIG_KVM_VMM_FIRECRACKER: "y",
    CONFIG_A: "n",
    CONFIG_LIBPOSIX_ENVIRON: "y",
    CONFIG_LIBPOSIX_ENVIRON_ENVP0: '"HOME=/"',
    CONFIG_LIBPOSIX_ENVIRON_ENVP1: '"MSG=say \\"hi\\""',
  });
  assert.deepEqual(plan.adjustments, []);
  assert.equal(
    defconfigText({ CONFIG_X: "y", CONFIG_Y: "n", CONFIG_S: '"s"' }),
    'CONFIG_X=y\n# CONFIG_Y is not set\nCONFIG_S="s"\n',
  );
});

test("a listed library is enabled by its CONFIG_LIB<NAME> symbol", () => {
  assert.equal(libraryEnableSymbol("musl"), "CONFIG_LIBMUSL");
  assert.equal(libraryEnableSymbol("lib-lwip"), "CONFIG_LIB_LWIP");
  assert.equal(libraryEnableSymbol("libelf"), "CONFIG_LIBELF");
});

test("disables ukrandom for qemu targets on a 0.17 core unless the Kraftfile decides", () => {
  const v017 = { major: 0, minor: 17, patch: 0 };
  const qemu = planKconfig(project(), target("qemu", "x86_64"), { coreVersion: v017 });
  assert.equal(qemu.options.CONFIG_LIBUKRANDOM, "n");
  assert.equal(qemu.adjustments[0]?.name, "CONFIG_LIBUKRANDOM");
  assert.match(defconfigText(qemu.options), /^# CONFIG_LIBUKRANDOM is not set$/m);
  assert.equal(
    planKconfig(project(), target("qemu", "x86_64"), { coreVersion: { major: 0, minor: 16, patch: 3 } })
      .options.CONFIG_LIBUKRANDOM,
    undefined,
  );
  assert.equal(
    planKconfig(project(), target("firecracker", "x86_64"), { coreVersion: v017 }).options.CONFIG_LIBUKRANDOM,
    undefined,
  );
  const mine = planKconfig(project(), target("qemu", "x86_64", { CONFIG_LIBUKRANDOM: "y" }), {
    coreVersion: v017,
  });
  assert.equal(mine.options.CONFIG_LIBUKRANDOM, "y");
  assert.deepEqual(mine.adjustments, []);
});

test("missingOptions lists options that are absent or changed, and accepts absent for n", () => {
  const dot = 'CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_N=0x10\nCONFIG_S="x"\n';
  assert.deepEqual(
    missingOptions(
      { CONFIG_A: "y", CONFIG_B: "y", CONFIG_GONE: "y", CONFIG_OFF: "n", CONFIG_N: "0X10", CONFIG_S: '"y"' },
      dot,
    ),
    [
      { name: "CONFIG_B", requested: "y", actual: "n" },
      { name: "CONFIG_GONE", requested: "y", actual: undefined },
      { name: "CONFIG_S", requested: '"y"', actual: '"x"' },
    ],
  );
  assert.deepEqual(missingOptions({ CONFIG_A: "n" }, dot), [
    { name: "CONFIG_A", requested: "n", actual: "y" },
  ]);
});

test("reads the core release from version.mk", () => {
  assert.deepEqual(parseVersionMk("UK_VERSION = 0\nUK_SUBVERSION = 17\nUK_EXTRAVERSION = 0\n"), {
    major: 0,
    minor: 17,
    patch: 0,
  });
  assert.equal(parseVersionMk("nothing"), undefined);
});

test("stdinWarning: an empty stdin the Kraftfile did not choose is warned about, with the cure", () => {
  const nullStdin = "CONFIG_LIBPOSIX_TTY=y\nCONFIG_LIBPOSIX_TTY_STDIN_NULL=y\n";
  assert.match(stdinWarning({}, nullStdin) ?? "", /stdin is empty .*CONFIG_LIBPOSIX_TTY_STDIN_SERIAL: 'y'/);
  assert.equal(stdinWarning({ CONFIG_LIBPOSIX_TTY_STDIN_NULL: "y" }, nullStdin), undefined);
  assert.equal(stdinWarning({}, "CONFIG_LIBPOSIX_TTY_STDIN_SERIAL=y\n"), undefined);
  assert.equal(stdinWarning({}, "# CONFIG_LIBPOSIX_TTY is not set\n"), undefined);
});
