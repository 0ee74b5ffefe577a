import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { isKilnError } from "../core/errors.js";
import { baselineFragment, baselineGroups } from "./baseline.js";
import { checkConfig, configArch, embeddedConfig, requirementsFor } from "./check.js";
import { mergeRequest } from "./configure.js";
import { mergeAssignments, parseAssignments, unsetRequests } from "./fragment.js";
import { firstCompilerErrors, parseStep, planKernelMake } from "./make.js";
import { kernelVersionFromMakefile } from "./source.js";
import { explainFromScan, expressionSymbols, scanKconfig } from "./why.js";

const SHARED = join(import.meta.dirname, "../../../shared/data/firecracker/guest_configs");

test("fragments: later values win and every change is reported with file:line", () => {
  const a = parseAssignments('CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_S="x"\n', "a.config");
  const b = parseAssignments('# comment\nCONFIG_A=m\nCONFIG_B=y\nCONFIG_S="x"\n', "b.config");
  const { merged, overrides } = mergeAssignments([a, b]);
  assert.deepEqual(
    [...merged].map(([k, v]) => `${k}=${v.value}`),
    ["A=m", "B=y", 'S="x"'],
  );
  assert.deepEqual(overrides, [
    { option: "A", from: "y", to: "m", fromSource: "a.config:1", toSource: "b.config:2" },
    { option: "B", from: "n", to: "y", fromSource: "a.config:2", toSource: "b.config:3" },
  ]);
});

test("fragments: a line that is no assignment is an error at its line", () => {
  assert.throws(
    () => parseAssignments("CONFIG_A=y\nCONIFG_B=y\n", "frag.config"),
    (e) =>
      isKilnError(e, "KERNEL_BAD_FRAGMENT") &&
      e.message === "not a Kconfig assignment: CONIFG_B=y" &&
      e.location?.line === 2,
  );
});

test("requested values that did not survive are named with where they were asked for", () => {
  const req = parseAssignments("CONFIG_EROFS_FS=y\nCONFIG_EXT4_FS=y\n# CONFIG_PCI is not set\n", "f");
  const unset = unsetRequests(req, "CONFIG_EXT4_FS=y\n# CONFIG_PCI is not set\n");
  assert.deepEqual(unset, [{ option: "EROFS_FS", requested: "y", actual: "n", source: "f:1" }]);
});

test("baseline: documented groups per architecture, and fragments override it", () => {
  const x86 = baselineFragment("x86_64");
  assert.match(x86, /^CONFIG_PVH=y$/m);
  assert.match(x86, /^CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y$/m);
  assert.doesNotMatch(x86, /RTC_DRV_PL031/);
  // What the baseline turns off is written as such, so a fragment turning it back on is an override.
  assert.match(x86, /^# CONFIG_IO_URING is not set$/m);
  assert.match(x86, /^# CONFIG_CPU_MITIGATIONS is not set$/m);
  assert.doesNotMatch(baselineFragment("arm64"), /CPU_MITIGATIONS/);
  assert.match(baselineFragment("arm64"), /^CONFIG_RTC_DRV_PL031=y$/m);
  for (const g of baselineGroups("arm64")) assert.ok(g.why.length > 20, g.name);
  const { overrides, requested } = mergeRequest("x86_64", {
    base: { kind: "baseline" },
    fragments: [{ path: "no-vsock.config", text: "# CONFIG_VIRTIO_VSOCKETS is not set\n" }],
  });
  assert.equal(overrides[0]?.option, "VIRTIO_VSOCKETS");
  assert.equal(requested.get("VIRTIO_VSOCKETS")?.value, "n");
  const restored = mergeRequest("x86_64", {
    base: { kind: "baseline" },
    fragments: [{ path: "mitigations.config", text: "CONFIG_CPU_MITIGATIONS=y\n" }],
  });
  assert.deepEqual(
    restored.overrides.map((o) => `${o.option} ${o.from}→${o.to} ${o.toSource}`),
    ["CPU_MITIGATIONS n→y mitigations.config:1"],
  );
});

test("a full .config's own values are not requests; its fragments' are", () => {
  const { requested, overrides } = mergeRequest("x86_64", {
    base: { kind: "file", path: "full.config", text: "CONFIG_A=y\nCONFIG_B=y\n" },
    fragments: [{ path: "f", text: "CONFIG_B=n\n" }],
  });
  assert.deepEqual([...requested.keys()], ["B"]);
  assert.equal(overrides.length, 1);
});

test("check: Debian's stock config has virtio as modules, which a Firecracker guest cannot load", {
  skip: existsSync("/boot") ? false : "no /boot",
}, (t) => {
  const name = readdirSync("/boot").find((n) => n.startsWith("config-") && n.endsWith("-amd64"));
  if (!name) return t.skip("no Debian amd64 config in /boot (apt-get install linux-image-amd64)");
  const stock = join("/boot", name);
  const text = readFileSync(stock, "utf8");
  assert.equal(configArch(text), "x86_64");
  const missing = checkConfig(text, "firecracker", "x86_64").map(
    (m) => `${m.options.join("|")}=${Object.values(m.actual).join("|")}`,
  );
  assert.ok(missing.includes("VIRTIO_MMIO=m"), missing.join(", "));
  assert.ok(missing.includes("VIRTIO_BLK=m"), missing.join(", "));
  // Its ACPI stands in for command-line devices (as in Firecracker's own config), so that one is met.
  assert.ok(!missing.some((m) => m.startsWith("VIRTIO_MMIO_CMDLINE_DEVICES")), missing.join(", "));
  assert.deepEqual(checkConfig(text, "qemu-pc", "x86_64"), []);
});

test("check: Firecracker's own 6.1 guest configs meet the Firecracker requirements", () => {
  const x86 = readFileSync(join(SHARED, "microvm-kernel-ci-x86_64-6.1.config"), "utf8");
  assert.equal(configArch(x86), "x86_64");
  assert.deepEqual(checkConfig(x86, "firecracker", "x86_64"), []);
  const arm = readFileSync(join(SHARED, "microvm-kernel-ci-aarch64-6.1.config"), "utf8");
  assert.equal(configArch(arm), "arm64");
  assert.deepEqual(checkConfig(arm, "firecracker", "arm64"), []);
});

test("check: qemu-microvm accepts ACPI or command-line devices", () => {
  const req = requirementsFor("qemu-microvm", "x86_64").find((r) => r.anyOf.includes("ACPI"));
  assert.deepEqual(req?.anyOf, ["VIRTIO_MMIO_CMDLINE_DEVICES", "ACPI"]);
});

test("check: IKCONFIG's embedded configuration is found between its markers", () => {
  const cfg = "CONFIG_X86_64=y\nCONFIG_PVH=y\n";
  const image = Buffer.concat([Buffer.from("\x7fELF...IKCFG_ST"), gzipSync(cfg), Buffer.from("IKCFG_ED...")]);
  assert.equal(embeddedConfig(image), cfg);
  assert.equal(embeddedConfig(Buffer.from("no markers")), undefined);
});

test("kbuild output: steps, first compiler errors, make argv", () => {
  assert.deepEqual(parseStep("  CC      kernel/fork.o"), { verb: "CC", object: "kernel/fork.o" });
  assert.equal(parseStep("make[1]: Entering directory"), undefined);
  const log = [
    "  CC      init/main.o",
    "init/main.c:12:5: error: expected ';' before 'return'",
    "make[2]: *** [scripts/Makefile.build:250: init/main.o] Error 1",
  ].join("\n");
  assert.deepEqual(firstCompilerErrors(log), ["init/main.c:12:5: error: expected ';' before 'return'"]);
  assert.deepEqual(
    planKernelMake({
      treeDir: "/src",
      buildDir: "/b",
      arch: "arm64",
      crossCompile: "aarch64-linux-gnu-",
      jobs: 2,
      goals: ["Image"],
    }),
    ["make", "-C", "/src", "O=/b", "ARCH=arm64", "CROSS_COMPILE=aarch64-linux-gnu-", "-j2", "Image"],
  );
});

test("Kconfig why: a symbol's own depends-on and the if blocks of the files that source it", async () => {
  const files: Record<string, string> = {
    Kconfig: 'source "fs/Kconfig"\nsource "arch/$(SRCARCH)/Kconfig"\n',
    "fs/Kconfig": [
      "menuconfig MISC_FILESYSTEMS",
      '\tbool "Miscellaneous filesystems"',
      "if MISC_FILESYSTEMS",
      'source "fs/erofs/Kconfig"',
      "endif # MISC_FILESYSTEMS",
      "config EXT4_FS",
      '\ttristate "ext4"',
    ].join("\n"),
    "fs/erofs/Kconfig": [
      "config EROFS_FS",
      '\ttristate "EROFS filesystem support"',
      "\tdepends on BLOCK",
      "\thelp",
      "\t  depends on NOT_THIS",
    ].join("\n"),
    "arch/x86/Kconfig": 'menu "Guest"\n\tdepends on HYPERVISOR_GUEST\nconfig PVH\n\tbool "PVH"\nendmenu\n',
  };
  const scan = await scanKconfig(
    async (p) => files[p],
    "Kconfig",
    ["EROFS_FS", "PVH", "EXT4_FS", "NOPE"],
    "x86",
  );
  const values = new Map([
    ["MISC_FILESYSTEMS", "n"],
    ["BLOCK", "y"],
    ["EXT4_FS", "m"],
  ]);
  const why = explainFromScan(scan, ["EROFS_FS", "PVH", "EXT4_FS", "NOPE"], values);
  assert.equal(
    why.get("EROFS_FS"),
    "inside if MISC_FILESYSTEMS (MISC_FILESYSTEMS=n); depends on BLOCK (BLOCK=y)",
  );
  assert.equal(why.get("PVH"), "inside menu depending on HYPERVISOR_GUEST (HYPERVISOR_GUEST=n)");
  assert.equal(why.get("EXT4_FS"), "nothing stops =y; the configuration itself chose =m (a module)");
  assert.match(why.get("NOPE") ?? "", /^no Kconfig file of this tree defines it/);
  assert.deepEqual(expressionSymbols("MISC_FILESYSTEMS && (BLOCK || !MTD)"), [
    "MISC_FILESYSTEMS",
    "BLOCK",
    "MTD",
  ]);
  assert.equal(kernelVersionFromMakefile("VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 158\n"), "6.1.158");
  assert.equal(kernelVersionFromMakefile("all:\n\techo\n"), undefined);
});
