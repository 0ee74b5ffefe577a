/**
 * `kiln config menu` in a real terminal (tmux at 80×24) on the fixture tree:
 * open a menu, toggle a bool, search a symbol and jump to it, open the why
 * panel of a blocked symbol and jump to the blocking term, save; the saved
 * `.config` equals what the engine's olddefconfig and `kiln config set` write
 * for the same values.
 * Also: Ctrl-C writes nothing, quitting with changes asks, resize redraws,
 * NO_COLOR drops attributes, and no terminal is refused.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { openLinuxTree } from "../../src/kconfig/linux.js";
import { olddefconfig } from "../../src/kconfig/ops.js";
import { parseKconfig } from "../../src/kconfig/parser.js";
import { KILN_FROM_SOURCE, REPO_ROOT, runKiln, scratchDir } from "../helpers/kiln.js";
import { startTerminal } from "../helpers/tmux.js";

const FIXTURE = join(REPO_ROOT, "test/fixtures/kconfig-menu");
const ARGS = ["config", "menu", "--srctree", FIXTURE, "--arch", "x86_64"];
const ENV = { TERM: "xterm-256color" };

function engineConfig(values: string): string {
  const lt = openLinuxTree(FIXTURE, "x86_64", { env: { CC_VERSION_TEXT: "gcc (fixture)" } });
  const tree = parseKconfig("Kconfig", lt.host);
  lt.done();
  return olddefconfig(tree, values).dotconfig();
}

describe("kiln config menu in tmux (fixture tree)", () => {
  it("menu, toggle, search and jump, why of a blocked symbol, save: the .config is the engine's", async (t) => {
    const dir = scratchDir(t, "kiln-menu-");
    // an explicit empty input: without one the menu starts from the host's or the arch's defaults, as mconf
    writeFileSync(join(dir, "empty.config"), "");
    const term = startTerminal(
      t,
      [...KILN_FROM_SOURCE, ...ARGS, "--in", "empty.config", "--out", "out.config"],
      {
        width: 80,
        height: 24,
        cwd: dir,
        env: ENV,
      },
    );
    await term.waitFor(/^>\s+General setup {2}--->$/m, 60_000);
    // open a menu and toggle a bool
    term.send("Enter");
    await term.waitFor(/Main menu > General setup/);
    term.send("Down", "Down");
    await term.waitFor(/^>\[\*\] Support for paging of anonymous memory \(swap\) \(NEW\)$/m);
    term.send("Space");
    await term.waitFor(/^>\[ \] Support for paging of anonymous memory \(swap\)$/m);
    // search a symbol (hidden: NET is n) and jump to it
    term.send("Escape");
    await term.waitFor(/^ Main menu\s*$/m);
    term.type("/");
    await term.waitFor(/Search \(substring\): _/);
    term.type("virtio_net");
    term.send("Enter");
    await term.waitFor(/^>VIRTIO_NET \[=n\] {2}Virtio network driver$/m);
    await term.waitFor(/^ {4}-> Main menu -> Device Drivers$/m);
    term.send("Enter");
    let s = await term.waitFor(/^>- - {3}Virtio network driver \(hidden\)$/m);
    assert.match(s, /Main menu > Device Drivers/);
    assert.match(s, /hidden: depends on NET \[=n\]/);
    // the why panel shows the blocking term; Enter jumps to it
    term.type("w");
    s = await term.waitFor(/== Why VIRTIO_NET ==/);
    assert.match(s, /^ Defined at drivers\/Kconfig:6 {2}"Virtio network driver"$/m);
    assert.match(s, /^ Depends on: NET && VIRTIO \[=n\]$/m);
    assert.match(s, /^ {3}VIRTIO \[=y\]$/m);
    assert.match(s, /^> {2}BLOCKING NET \[=n\]$/m);
    term.send("Enter");
    await term.waitFor(/^>\[ \] Networking support \(NEW\)$/m);
    term.type("y");
    await term.waitFor(/^>\[\*\] Networking support$/m);
    term.send("Down");
    await term.waitFor(/^><M> {3}Virtio network driver \(NEW\)$|^>\[ \] {3}Virtio network driver \(NEW\)$/m);
    term.type("y");
    await term.waitFor(/^>\[\*\] {3}Virtio network driver$/m);
    term.type("s");
    await term.waitFor(/Configuration saved to .*out\.config/);
    term.type("q");
    await term.waitFor(/KILN-EXIT=0/);
    const saved = readFileSync(join(dir, "out.config"), "utf8");
    const expected = engineConfig("# CONFIG_SWAP is not set\nCONFIG_NET=y\nCONFIG_VIRTIO_NET=y\n");
    assert.equal(saved, expected);
    assert.match(saved, /^CONFIG_VIRTIO_NET=y$/m);
    // and what `kiln config set` writes for the same values
    const set = await runKiln(
      ["config", "set", "SWAP=n", "NET=y", "VIRTIO_NET=y", "--srctree", FIXTURE, "--arch", "x86_64"].concat([
        "--in",
        join(dir, "empty.config"),
        "--out",
        join(dir, "set.config"),
      ]),
    );
    assert.equal(set.code, 0, set.stderr);
    assert.equal(saved, readFileSync(join(dir, "set.config"), "utf8"));
  });

  it("Ctrl-C writes nothing; leaving with changes asks; resize redraws; NO_COLOR has no attributes", async (t) => {
    const dir = scratchDir(t, "kiln-menu-");
    // an explicit empty input: without one the menu starts from the host's or the arch's defaults, as mconf
    writeFileSync(join(dir, "empty.config"), "");
    const colored = startTerminal(
      t,
      [...KILN_FROM_SOURCE, ...ARGS, "--in", "empty.config", "--out", "a.config"],
      {
        width: 80,
        height: 24,
        cwd: dir,
        env: ENV,
      },
    );
    await colored.waitFor(/General setup {2}--->/, 60_000);
    // the cursor line is drawn in reverse video when colors are allowed
    assert.match(colored.screen(true), /\x1b\[7m/);
    colored.send("Down", "Space");
    await colored.waitFor(/^>\[\*\] Enable loadable module support$/m);
    colored.resize(100, 30);
    await colored.waitFor(/^-{100}$/m);
    colored.send("C-c");
    await colored.waitFor(/KILN-EXIT=130/);
    assert.equal(existsSync(join(dir, "a.config")), false);

    const plain = startTerminal(
      t,
      [...KILN_FROM_SOURCE, ...ARGS, "--in", "empty.config", "--out", "b.config"],
      {
        width: 80,
        height: 24,
        cwd: dir,
        env: { ...ENV, NO_COLOR: "1" },
      },
    );
    await plain.waitFor(/General setup {2}--->/, 60_000);
    assert.doesNotMatch(plain.screen(true), /\x1b\[[0-9;]*m/);
    plain.send("Down", "Space");
    await plain.waitFor(/^>\[\*\] Enable loadable module support$/m);
    plain.type("q");
    await plain.waitFor(/There are unsaved changes\. Save them\?/);
    plain.type("n");
    await plain.waitFor(/KILN-EXIT=0/);
    assert.equal(existsSync(join(dir, "b.config")), false);
  });

  it("refuses without a terminal and points at kiln config set", async () => {
    const r = await runKiln(ARGS);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /kiln config menu is interactive and needs a terminal, but standard input is not one/,
    );
    assert.match(r.stderr, /kiln config set/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});
