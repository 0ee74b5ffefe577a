/**
 * Kiln's Kconfig engine against Unikraft's own make on a real tree: for each
 * target, `make defconfig` with the defconfig Kiln plans (UK_DEFCONFIG=…,
 * Unikraft's support/kconfig conf) and Kiln's engine from the same inputs
 * write byte-identical `.config` files, and `make savedefconfig` and
 * `kiln config savedefconfig -t` the same minimal configuration.
 *
 * Opt-in: KILN_TEST_UNIKRAFT (a Unikraft checkout, e.g. RELEASE-0.17.0):
 * helloworld's qemu/x86_64, fc/x86_64, qemu/arm64 and fc/arm64 targets. With
 * KILN_TEST_UNIKRAFT_MIRROR (a directory holding lib-musl.git, and
 * lib-sqlite.git when present) also an application on lib-musl (+ lib-sqlite)
 * with Kraftfile kconfig entries. Builds conf once per build directory (a few
 * seconds each); prints each target's make and engine times.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseDocument } from "yaml";
import { exec } from "../../src/core/exec.js";
import { unikraftHostArch } from "../../src/kconfig/unikraft.js";
import { loadProject } from "../../src/kraftfile/load.js";
import { runTargetConfig } from "../../src/orchestration/target-config.js";
import { configureFromPlan, openTargetKconfig } from "../../src/orchestration/unikraft-config.js";
import { defconfigText } from "../../src/unikraft/config.js";
import { planMake } from "../../src/unikraft/make.js";
import { scratchDir } from "../helpers/kiln.js";
import { UNIKRAFT_TREE, writeHelloworldApp } from "../helpers/unikraft.js";

const MIRROR = process.env.KILN_TEST_UNIKRAFT_MIRROR;
const skip = UNIKRAFT_TREE
  ? false
  : "KILN_TEST_UNIKRAFT is unset (point it at a Unikraft checkout, e.g. RELEASE-0.17.0)";

/** Compares make defconfig and the engine for every target of the project in `dir`. */
async function compareTargets(t: { diagnostic(s: string): void }, dir: string): Promise<void> {
  const { project } = await loadProject(dir, { env: process.env });
  for (const target of project.targets) {
    const tk = await openTargetKconfig(project, target, { fetch: false });
    const defconfig = join(tk.buildDir, `defconfig.${target.name}`);
    execFileSync("mkdir", ["-p", tk.buildDir]);
    writeFileSync(defconfig, defconfigText(tk.plan.options));
    let started = performance.now();
    await exec(
      planMake({
        coreDir: tk.dirs.core,
        appDir: project.dir,
        libDirs: tk.dirs.libraries,
        buildDir: tk.buildDir,
        name: project.name,
        configFile: tk.configFile,
        goal: "defconfig",
        vars: { UK_DEFCONFIG: defconfig },
      }),
      { timeoutMs: 300_000 },
    );
    const makeMs = performance.now() - started;
    started = performance.now();
    const mine = configureFromPlan(tk).dotconfig();
    const engineMs = performance.now() - started + tk.parseMs;
    const theirs = readFileSync(tk.configFile, "utf8");
    t.diagnostic(`${target.name}: make defconfig ${makeMs.toFixed(0)} ms, engine ${engineMs.toFixed(0)} ms`);
    if (mine !== theirs) writeFileSync(`${tk.configFile}.kiln`, mine);
    assert.ok(mine === theirs, `${target.name}: ${tk.configFile} differs from ${tk.configFile}.kiln`);
    // savedefconfig of that .config: make's (conf + the Makefile's lines) and kiln config savedefconfig -t
    const makeSaved = join(tk.buildDir, "make.savedefconfig");
    const kilnSaved = join(tk.buildDir, "kiln.savedefconfig");
    await exec(
      planMake({
        coreDir: tk.dirs.core,
        appDir: project.dir,
        libDirs: tk.dirs.libraries,
        buildDir: tk.buildDir,
        name: project.name,
        configFile: tk.configFile,
        goal: "savedefconfig",
        vars: { UK_DEFCONFIG: makeSaved },
      }),
      { timeoutMs: 300_000 },
    );
    await runTargetConfig(project, target, { verb: "savedefconfig", out: kilnSaved }, { fetch: false });
    // For a target of another architecture, make (savedefconfig reads no .config, so CONFIG_UK_ARCH is
    // the host's) appends the host's CONFIG_ARCH_…=y, which would switch the architecture when the file
    // is read back; Kiln leaves that line out.
    let expected = readFileSync(makeSaved, "utf8");
    if (target.architecture !== unikraftHostArch())
      expected = expected.replace(/^CONFIG_ARCH_\w+=y\n(?=CONFIG_UK_NAME=)/m, "");
    assert.equal(readFileSync(kilnSaved, "utf8"), expected, `${target.name}: savedefconfig`);
  }
}

test("real Unikraft: helloworld's targets are configured byte-identically to make defconfig", {
  skip,
  timeout: 900_000,
}, async (t) => {
  const dir = join(scratchDir(t), "helloworld");
  writeHelloworldApp(dir, UNIKRAFT_TREE!, ["qemu/x86_64", "fc/x86_64", "qemu/arm64", "fc/arm64"]);
  await compareTargets(t, dir);
});

test("real Unikraft: an app on lib-musl (and lib-sqlite) with kconfig entries is configured byte-identically", {
  skip:
    skip ||
    (MIRROR && existsSync(join(MIRROR, "lib-musl.git"))
      ? false
      : "KILN_TEST_UNIKRAFT_MIRROR with lib-musl.git is unset"),
  timeout: 900_000,
}, async (t) => {
  const root = scratchDir(t);
  const libs = ["musl", ...(existsSync(join(MIRROR!, "lib-sqlite.git")) ? ["sqlite"] : [])];
  for (const l of libs)
    execFileSync("git", ["clone", "-q", join(MIRROR!, `lib-${l}.git`), join(root, `lib-${l}`)]);
  const dir = join(root, "app");
  writeHelloworldApp(dir, UNIKRAFT_TREE!, ["qemu/x86_64", "fc/x86_64"]);
  writeFileSync(
    join(dir, "Kraftfile"),
    [
      "specification: '0.6'",
      "name: app",
      "unikraft:",
      `  source: ${UNIKRAFT_TREE}`,
      "  kconfig:",
      "    CONFIG_LIBVFSCORE_AUTOMOUNT_ROOTFS: 'y'",
      "    CONFIG_LIBVFSCORE_ROOTFS_RAMFS: 'y'",
      "    CONFIG_LIBUKDEBUG_PRINTK_INFO: 'y'",
      "libraries:",
      ...libs.flatMap((l) => [`  ${l}:`, `    source: ${join(root, `lib-${l}`)}`]),
      "targets:",
      "  - qemu/x86_64",
      "  - fc/x86_64",
      "",
    ].join("\n"),
  );
  await compareTargets(t, dir);
});

test("real Unikraft: app-sqlite's six targets (its own kraft.yaml, on lib-musl and lib-sqlite) are configured byte-identically", {
  skip:
    skip ||
    (MIRROR && ["app-sqlite.git", "lib-musl.git", "lib-sqlite.git"].every((r) => existsSync(join(MIRROR, r)))
      ? false
      : "KILN_TEST_UNIKRAFT_MIRROR with app-sqlite.git, lib-musl.git and lib-sqlite.git is unset"),
  timeout: 1_800_000,
}, async (t) => {
  const root = scratchDir(t);
  for (const r of ["app-sqlite", "lib-musl", "lib-sqlite"])
    execFileSync("git", ["clone", "-q", join(MIRROR!, `${r}.git`), join(root, r)]);
  // the same Kraftfile with its `version: stable` sources pointed at the local trees
  const file = join(root, "app-sqlite", "kraft.yaml");
  const doc = parseDocument(readFileSync(file, "utf8"));
  doc.setIn(["unikraft", "source"], UNIKRAFT_TREE);
  doc.deleteIn(["unikraft", "version"]);
  for (const l of ["musl", "sqlite"]) {
    doc.setIn(["libraries", l, "source"], join(root, `lib-${l}`));
    doc.deleteIn(["libraries", l, "version"]);
  }
  writeFileSync(file, doc.toString());
  await compareTargets(t, join(root, "app-sqlite"));
});
