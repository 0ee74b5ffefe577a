/**
 * `kiln menu -t TARGET` in a real terminal (tmux at 80×24) on a Kraftfile
 * project over the fixture Unikraft core: entries the Kraftfile sets are
 * marked and their why panel names the Kraftfile line; open a menu, toggle a
 * bool, search a hidden symbol and jump to it, open its why panel and jump to
 * the blocking term, set it, then `K` saves the target's .config and the
 * changed entries into the Kraftfile (comments kept). The .config equals
 * what `kiln config set -t` writes for the same values, and the saved
 * Kraftfile alone configures the same .config. No terminal is refused.
 */
import assert from "node:assert/strict";
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadProject } from "../../src/kraftfile/load.js";
import { configureFromPlan, openTargetKconfig } from "../../src/orchestration/unikraft-config.js";
import { KILN_FROM_SOURCE, runKiln, scratchDir } from "../helpers/kiln.js";
import { startTerminal } from "../helpers/tmux.js";
import { writeFixtureKraftfile } from "./fixture-project.js";

/** Comments on a core entry and a target: saving must keep them; `why` names these lines. */
const PARTS = {
  core: ["# deeper stacks for the app", "CONFIG_STACK_SIZE_PAGE_ORDER: 5"],
  lib: ["- CONFIG_LIBFOO=y"],
  targets: ["qemu/x86_64   # the one we run", "fc/x86_64"],
};

const TARGET = "hello_qemu-x86_64";

describe("kiln menu in tmux (fixture Unikraft project)", () => {
  it("marks, toggle, search and jump, why of a blocked symbol, K saves .config and the Kraftfile", async (t) => {
    const root = scratchDir(t, "kiln-ukmenu-");
    const dir = writeFixtureKraftfile(root, PARTS);
    // a twin project for kiln config set (same core, library and Kraftfile)
    const twin = join(root, "twin");
    cpSync(dir, twin, { recursive: true });
    const env = { TERM: "xterm-256color", KILN_HOME: join(root, "home") };
    const term = startTerminal(t, [...KILN_FROM_SOURCE, "menu", "-t", TARGET], {
      width: 80,
      height: 24,
      cwd: dir,
      env,
    });
    let s = await term.waitFor(/^>\s+Architecture Selection {2}--->$/m, 60_000);
    assert.match(s, /^ \.config\.hello_qemu-x86_64 - Unikraft\/0\.17\.0\S* Configuration/m);
    assert.match(s, /K:Kraftfile q:quit$/m);
    // the Kraftfile's entry is marked, and its why panel names the line
    term.send("Enter");
    await term.waitFor(/Main menu > Architecture Selection/);
    term.send("Down");
    await term.waitFor(/^>\(5\) Stack size page order \[Kraftfile\]$/m);
    term.type("w");
    s = await term.waitFor(/== Why STACK_SIZE_PAGE_ORDER ==/);
    assert.match(s, /^ Set by the project: Kraftfile:7 \(core\)$/m);
    term.send("Escape");
    await term.waitFor(/^>\(5\) Stack size page order \[Kraftfile\]$/m);
    term.send("Escape");
    await term.waitFor(/^ Main menu\s*$/m);
    // open a menu and toggle a bool
    term.send("Down", "Down", "Enter");
    await term.waitFor(/Main menu > Library Configuration/);
    term.send("Down", "Down");
    await term.waitFor(/^>\[ \] vfscore: VFS core \(NEW\) {2}----$/m);
    term.send("Space");
    await term.waitFor(/^>\[\*\] vfscore: VFS core {2}--->$/m);
    // search a hidden symbol and jump to it
    term.type("/");
    term.type("rootfs_initrd\r");
    await term.waitFor(/^>LIBVFSCORE_ROOTFS_INITRD \[=n\] {2}Mount the initrd as root filesystem$/m);
    term.send("Enter");
    s = await term.waitFor(/^>- - Mount the initrd as root filesystem \(hidden\)$/m);
    assert.match(s, /Main menu > Library Configuration > vfscore: VFS core/);
    // its why panel shows the blocking terms; Enter on one jumps to it
    term.type("w");
    s = await term.waitFor(/== Why LIBVFSCORE_ROOTFS_INITRD ==/);
    assert.match(s, /^ Depends on: LIBVFSCORE && LIBUKCPIO && LIBUKRANDOM \[=n\]$/m);
    assert.match(s, /^> {2}BLOCKING LIBUKCPIO \[=n\]$/m);
    assert.match(s, /^ {3}BLOCKING LIBUKRANDOM \[=n\]$/m);
    term.send("Down", "Enter");
    await term.waitFor(/^>\[ \] ukrandom: Random number generator {2}---- \[Kraftfile\]$/m);
    term.type("y");
    await term.waitFor(/^>\[\*\] ukrandom: Random number generator {2}---> \[Kraftfile\]$/m);
    // K: the target's .config and the changed entries into the Kraftfile
    term.type("K");
    await term.waitFor(/Saved \.config\.hello_qemu-x86_64 and 2 entries into Kraftfile/);
    // the entries written are the Kraftfile's now, and marked so
    term.send("Down");
    await term.waitFor(/^>\[\*\] vfscore: VFS core {2}---> \[Kraftfile\]$/m);
    term.type("w");
    s = await term.waitFor(/== Why LIBVFSCORE ==/);
    assert.match(s, /^ Set by the project: Kraftfile:18 \(target hello_qemu-x86_64\)$/m);
    term.send("Escape");
    await term.waitFor(/^>\[\*\] vfscore: VFS core {2}---> \[Kraftfile\]$/m);
    term.type("q");
    await term.waitFor(/KILN-EXIT=0/);

    const kf = readFileSync(join(dir, "Kraftfile"), "utf8");
    assert.match(kf, / {4}# deeper stacks for the app\n {4}CONFIG_STACK_SIZE_PAGE_ORDER: 5\n/);
    assert.match(
      kf,
      / {2}# the one we run\n {2}- platform: qemu\n {4}architecture: x86_64\n {4}kconfig:\n {6}CONFIG_LIBVFSCORE: y\n {6}CONFIG_LIBUKRANDOM: y\n {2}- fc\/x86_64\n/,
    );
    const saved = readFileSync(join(dir, `.config.${TARGET}`), "utf8");
    assert.match(saved, /^CONFIG_LIBUKRANDOM=y\nCONFIG_LIBUKRANDOM_GETRANDOM=y\nCONFIG_LIBVFSCORE=y$/m);
    // what kiln config set -t writes for the same values
    const set = await runKiln(["config", "set", "LIBVFSCORE=y", "LIBUKRANDOM=y", "-t", TARGET, twin], {
      env,
    });
    assert.equal(set.code, 0, set.stderr);
    assert.equal(saved, readFileSync(join(twin, `.config.${TARGET}`), "utf8").replaceAll(twin, dir));
    // and the saved Kraftfile alone configures the same (what the next kiln build writes)
    const { project } = await loadProject(dir, { env: process.env });
    const tk = await openTargetKconfig(project, project.targets[0]!, { fetch: false });
    assert.equal(configureFromPlan(tk).dotconfig(), saved);
  });

  it("without a terminal kiln menu refuses, pointing at kiln config set -t", async (t) => {
    const dir = writeFixtureKraftfile(scratchDir(t, "kiln-ukmenu-"), PARTS);
    const r = await runKiln(["menuconfig", "-t", TARGET, dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /kiln menu is interactive and needs a terminal/);
    assert.match(r.stderr, /kiln config set SYMBOL=VALUE … -t TARGET/);
  });
});
