/**
 * Opt-in extended comparison (KILN_TEST_KCONFIG_ALL_ARCHES=1), as
 * Kconfiglib's test suite does: every architecture of the Linux tree ×
 * defconfig, alldefconfig, allnoconfig, allyesconfig, Kiln against the C
 * conf that `make` builds from the same tree; prints a table and fails if any
 * file differs. Slow (make runs 4 times per architecture): not in CI's
 * default run.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { test } from "node:test";
import {
  allconfig,
  archDefconfigPath,
  defconfig,
  extractTarball,
  loadLinuxKconfig,
} from "../../src/kconfig/index.js";

const TARBALL = process.env.KILN_LINUX_TARBALL ?? "/usr/src/linux-source-6.1.tar.xz";
const CACHE = process.env.XDG_CACHE_HOME
  ? join(process.env.XDG_CACHE_HOME, "kiln")
  : join(tmpdir(), "kiln-test-cache");
const skip = !process.env.KILN_TEST_KCONFIG_ALL_ARCHES
  ? "set KILN_TEST_KCONFIG_ALL_ARCHES=1 to compare every architecture (slow)"
  : existsSync(TARBALL)
    ? false
    : `${TARBALL} not found`;

/** ARCH values to try for each arch/ directory (x86 and sparc have two). */
function archesOf(tree: string): string[] {
  const only = process.env.KILN_TEST_KCONFIG_ARCHES?.split(",");
  const out: string[] = [];
  for (const d of readdirSync(join(tree, "arch")).sort()) {
    if (!existsSync(join(tree, "arch", d, "Kconfig")) || d === "um") continue;
    const names = d === "x86" ? ["x86_64", "i386"] : d === "sparc" ? ["sparc64", "sparc32"] : [d];
    for (const a of names) if (!only || only.includes(a)) out.push(a);
  }
  return out;
}

test("every architecture × defconfig, alldefconfig, allnoconfig, allyesconfig equals conf", {
  skip,
  timeout: 6 * 3600_000,
}, () => {
  // KILN_LINUX_TARBALL may also name an extracted tree (make needs more of it for some architectures)
  const tree = statSync(TARBALL).isDirectory() ? TARBALL : extractTarball(TARBALL, CACHE);
  const work = mkdtempSync(join(tmpdir(), "kiln-kconfig-all-"));
  const rows: string[] = [];
  const failures: string[] = [];
  try {
    for (const arch of archesOf(tree)) {
      const out = join(work, arch);
      mkdirSync(out, { recursive: true });
      const { lt, tree: kt } = loadLinuxKconfig(tree, arch, { crossCompile: "" });
      const defPath = archDefconfigPath(lt);
      const cells: string[] = [];
      const ops = [
        {
          name: "defconfig",
          // `make NAME_defconfig` (or `make defconfig`) reads the same file Kiln reads;
          // passing KBUILD_DEFCONFIG=defconfig on the command line would make `defconfig` recurse
          make: [basename(defPath)],
          kiln: () => defconfig(kt, readFileSync(join(tree, defPath), "utf8")),
        },
        { name: "alldefconfig", make: ["alldefconfig"], kiln: () => allconfig(kt, "default") },
        { name: "allnoconfig", make: ["allnoconfig"], kiln: () => allconfig(kt, "no") },
        { name: "allyesconfig", make: ["allyesconfig"], kiln: () => allconfig(kt, "yes") },
      ];
      for (const op of ops) {
        let cell: string;
        if (op.name === "defconfig" && !existsSync(join(tree, defPath))) {
          cells.push("no defconfig".padEnd(13));
          continue;
        }
        try {
          execFileSync("make", ["-s", "-C", tree, `O=${out}`, `ARCH=${arch}`, "CROSS_COMPILE=", ...op.make], {
            stdio: ["ignore", "ignore", "pipe"],
          });
          cell = op.kiln().dotconfig() === readFileSync(join(out, ".config"), "utf8") ? "same" : "DIFF";
        } catch (e) {
          cell = "make failed";
          void e;
        }
        if (cell === "DIFF") failures.push(`${arch} ${op.name}`);
        cells.push(cell.padEnd(13));
      }
      rows.push(`${arch.padEnd(12)} ${cells.join(" ")}`);
      console.log(rows[rows.length - 1]);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  console.log(
    `${"ARCH".padEnd(12)} ${["defconfig", "alldefconfig", "allnoconfig", "allyesconfig"].map((h) => h.padEnd(13)).join(" ")}\n${rows.join("\n")}`,
  );
  assert.deepEqual(failures, []);
});
