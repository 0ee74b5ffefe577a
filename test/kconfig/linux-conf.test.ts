/**
 * Kiln's Kconfig engine against Linux 6.1's own scripts/kconfig/conf, on
 * Debian's linux-source-6.1 tarball: for x86_64 and arm64, olddefconfig of
 * Firecracker's guest config, the architecture's defconfig, allnoconfig, and
 * savedefconfig of each result (and autoconf.h of the first) must be byte-identical to what `make` (which
 * builds and runs the C conf from the same tree) writes; merge_config.sh of
 * Firecracker's ci.config fragment on the defconfig too, with the same
 * "Value requested … not in final .config" list.
 *
 * The tarball's Kconfig files, scripts and Makefiles are extracted once into
 * $XDG_CACHE_HOME/kiln (or the OS temp dir); KILN_LINUX_TARBALL overrides the
 * tarball path. Prints durations.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  allconfig,
  archDefconfigPath,
  Config,
  defconfig,
  extractTarball,
  loadLinuxKconfig,
  mergeFragments,
  olddefconfig,
} from "../../src/kconfig/index.js";
import { SHARED_DATA } from "../helpers/kiln.js";

const TARBALL = process.env.KILN_LINUX_TARBALL ?? "/usr/src/linux-source-6.1.tar.xz";
const CACHE = process.env.XDG_CACHE_HOME
  ? join(process.env.XDG_CACHE_HOME, "kiln")
  : join(tmpdir(), "kiln-test-cache");

const ARCHES = [
  { arch: "x86_64", fc: "microvm-kernel-ci-x86_64-6.1.config", cross: "" },
  { arch: "arm64", fc: "microvm-kernel-ci-aarch64-6.1.config", cross: "aarch64-linux-gnu-" },
];

/** Fails with the first differing line instead of two 100 kB strings. */
function assertSameText(actual: string, expected: string, what: string): void {
  if (actual === expected) return;
  const a = actual.split("\n");
  const e = expected.split("\n");
  let i = 0;
  while (i < a.length && a[i] === e[i]) i++;
  assert.fail(
    `${what}: first difference at line ${i + 1}: Kiln has ${JSON.stringify(a[i])}, conf has ${JSON.stringify(e[i])}`,
  );
}

function timed<T>(label: string, f: () => T): T {
  const t0 = performance.now();
  const r = f();
  console.log(`  ${label}: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  return r;
}

/** `make O=out ARCH=… [CROSS_COMPILE=…] target` in the extracted tree: the C tool's result. */
function make(tree: string, out: string, arch: string, cross: string, args: string[]): void {
  execFileSync(
    "make",
    ["-s", "-C", tree, `O=${out}`, `ARCH=${arch}`, ...(cross ? [`CROSS_COMPILE=${cross}`] : []), ...args],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
}

const skip = existsSync(TARBALL)
  ? false
  : `${TARBALL} not found (apt-get install linux-source-6.1, or set KILN_LINUX_TARBALL)`;

test("Kconfig engine writes the same files as Linux 6.1's conf (x86_64, arm64)", {
  skip,
  timeout: 30 * 60_000,
}, async (t) => {
  const tree = timed("extract Kconfig files from the tarball (cached after the first run)", () =>
    extractTarball(TARBALL, CACHE),
  );
  const work = mkdtempSync(join(tmpdir(), "kiln-kconfig-"));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  for (const { arch, fc, cross } of ARCHES) {
    await t.test(arch, () => {
      const out = join(work, arch);
      mkdirSync(out, { recursive: true });
      const dot = join(out, ".config");
      const { lt, tree: kt } = timed(`${arch}: Kiln parses the Kconfig tree`, () =>
        loadLinuxKconfig(tree, arch, { crossCompile: cross }),
      );
      const fcText = readFileSync(join(SHARED_DATA, "firecracker/guest_configs", fc), "utf8");
      const defText = readFileSync(join(tree, archDefconfigPath(lt)), "utf8");
      const cases: { name: string; make: () => void; kiln: () => Config }[] = [
        {
          name: "olddefconfig of Firecracker's config",
          make: () => {
            writeFileSync(dot, fcText);
            make(tree, out, arch, cross, ["olddefconfig"]);
          },
          kiln: () => olddefconfig(kt, fcText),
        },
        {
          name: "defconfig",
          make: () => make(tree, out, arch, cross, ["defconfig"]),
          kiln: () => defconfig(kt, defText),
        },
        {
          name: "allnoconfig",
          make: () => make(tree, out, arch, cross, ["allnoconfig"]),
          kiln: () => allconfig(kt, "no"),
        },
      ];
      for (const c of cases) {
        timed(`${arch} ${c.name}: make (builds and runs conf)`, c.make);
        const ref = readFileSync(dot, "utf8");
        const cfg = timed(`${arch} ${c.name}: Kiln`, () => c.kiln());
        const mine = cfg.dotconfig();
        assertSameText(mine, ref, `${arch} ${c.name}: .config`);
        if (c === cases[0]) {
          // conf writes include/generated/autoconf.h (symbol-table order) when it does not exist yet
          const refH = readFileSync(join(out, "include/generated/autoconf.h"), "utf8");
          assertSameText(cfg.autoconfH(), refH, `${arch} ${c.name}: autoconf.h`);
        }
        make(tree, out, arch, cross, ["savedefconfig"]);
        const refSave = readFileSync(join(out, "defconfig"), "utf8");
        const mineSave = new Config(kt).load(mine).savedefconfig();
        assertSameText(mineSave, refSave, `${arch} ${c.name}: savedefconfig`);
      }
      // merge_config.sh of Firecracker's ci.config fragment on the defconfig
      const fragPath = join(SHARED_DATA, "firecracker/guest_configs/ci.config");
      const base = join(out, "base.config");
      writeFileSync(base, defText);
      const log = timed(`${arch} merge_config.sh`, () =>
        execFileSync("sh", [join(tree, "scripts/kconfig/merge_config.sh"), "-O", out, base, fragPath], {
          cwd: tree,
          env: { ...process.env, ARCH: arch, ...(cross ? { CROSS_COMPILE: cross } : {}) },
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
        }),
      );
      const merged = mergeFragments(kt, { name: base, text: defText }, [
        { name: fragPath, text: readFileSync(fragPath, "utf8") },
      ]);
      assertSameText(
        merged.config.dotconfig(),
        readFileSync(dot, "utf8"),
        `${arch}: merge_config.sh .config`,
      );
      const refDropped = [...log.matchAll(/^Value requested for CONFIG_(\w+) not in final \.config$/gm)].map(
        (m) => m[1],
      );
      assert.deepEqual(
        merged.dropped.map((d) => d.symbol),
        refDropped,
      );
      for (const d of merged.dropped) assert.ok(d.reason.length > 0, `a reason for ${d.symbol}`);
      const refOverrides = [...log.matchAll(/^Value of CONFIG_(\w+) is redefined by fragment/gm)].map(
        (m) => m[1],
      );
      assert.deepEqual(
        merged.overrides.map((o) => o.symbol),
        refOverrides,
      );
    });
  }
});
