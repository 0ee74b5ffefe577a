/**
 * Slow: `kiln config menu` on Debian's linux-source-6.1 (x86_64) in tmux at
 * 80×24. Toggle a bool in General setup, search KVM_AMD, follow the why
 * panel's blocking terms (KVM, then HIGH_RES_TIMERS) by jumping to them, set
 * them, save; the saved `.config` equals the engine's olddefconfig of the
 * same values and what `kiln config set` writes. The tarball's Kconfig files are extracted once into Kiln's
 * cache (about a minute the first time on two cores).
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { openLinuxTree } from "../../src/kconfig/linux.js";
import { olddefconfig } from "../../src/kconfig/ops.js";
import { parseKconfig } from "../../src/kconfig/parser.js";
import { KILN_FROM_SOURCE, runKiln, scratchDir } from "../helpers/kiln.js";
import { startTerminal } from "../helpers/tmux.js";

const SOURCE = process.env.KILN_TEST_LINUX_SOURCE ?? "/usr/src/linux-source-6.1.tar.xz";
const skip = existsSync(SOURCE)
  ? false
  : `${SOURCE} does not exist (apt-get install linux-source-6.1, or set KILN_TEST_LINUX_SOURCE)`;

test("kiln config menu on linux-source-6.1 x86_64: toggle, search, why, jump to the blocker, save", {
  skip,
}, async (t) => {
  const started = Date.now();
  const dir = scratchDir(t, "kiln-menu-linux-");
  writeFileSync(join(dir, "empty.config"), "");
  const term = startTerminal(
    t,
    [
      ...KILN_FROM_SOURCE,
      "config",
      "menu",
      "--srctree",
      SOURCE,
      "--arch",
      "x86_64",
      "--in",
      "empty.config",
      "--out",
      "out.config",
    ],
    { width: 80, height: 24, cwd: dir, env: { TERM: "xterm-256color" } },
  );
  await term.waitFor(/^>\s+General setup {2}--->$/m, 600_000);
  t.diagnostic(`first screen after ${Date.now() - started} ms (including any tarball extraction)`);
  term.send("Enter");
  await term.waitFor(/^>\[ \] Compile also drivers which will not load \(NEW\)$/m);
  term.send("Space");
  await term.waitFor(/^>\[\*\] Compile also drivers which will not load$/m);
  term.send("Escape");
  await term.waitFor(/^ Main menu\s*$/m);
  term.type("/");
  await term.waitFor(/Search \(substring\): _/);
  term.type("KVM_AMD");
  term.send("Enter");
  await term.waitFor(/^>KVM_AMD \[=n\] {2}KVM for AMD processors support$/m);
  term.send("Enter");
  await term.waitFor(/^>- - {3}KVM for AMD processors support \(hidden\)$/m);
  term.type("w");
  let s = await term.waitFor(/== Why KVM_AMD ==/);
  assert.match(s, /^ Defined at arch\/x86\/kvm\/Kconfig:\d+ {2}"KVM for AMD processors support"$/m);
  assert.match(s, /^> {2}BLOCKING KVM \[=n\]$/m);
  term.send("Enter");
  await term.waitFor(/^>- - Kernel-based Virtual Machine \(KVM\) support \(hidden\)$/m);
  term.type("w");
  s = await term.waitFor(/== Why KVM ==/);
  assert.match(s, /^ {3}VIRTUALIZATION \[=y\]$/m);
  assert.match(s, /^> {2}BLOCKING HIGH_RES_TIMERS \[=n\]$/m);
  term.send("Enter");
  s = await term.waitFor(/^>\[ \] High Resolution Timer Support \(NEW\)$/m);
  assert.match(s, /Main menu > General setup > Timers subsystem/);
  term.type("y");
  await term.waitFor(/^>\[\*\] High Resolution Timer Support$/m);
  for (const sym of ["KVM", "KVM_AMD"]) {
    term.type("/");
    await term.waitFor(/Search \((substring|regex)\): _/);
    if (!/Search \(regex\)/.test(term.screen())) term.send("Tab");
    await term.waitFor(/Search \(regex\): _/);
    // the pattern and its Enter in one write, as a paste or a loaded machine delivers them
    term.type(`^${sym}$\r`);
    await term.waitFor(new RegExp(`^>${sym} \\[=n\\]`, "m"));
    term.send("Enter");
    await term.waitFor(/^ Main menu > Virtualization/m);
    term.type("y");
    await term.waitFor(new RegExp(`CONFIG_${sym}=y`));
  }
  term.type("s");
  await term.waitFor(/Configuration saved to out\.config/);
  term.type("q");
  await term.waitFor(/KILN-EXIT=0/);
  const lt = openLinuxTree(SOURCE, "x86_64");
  const tree = parseKconfig("Kconfig", lt.host);
  lt.done();
  const expected = olddefconfig(
    tree,
    "CONFIG_COMPILE_TEST=y\nCONFIG_HIGH_RES_TIMERS=y\nCONFIG_KVM=y\nCONFIG_KVM_AMD=y\n",
  ).dotconfig();
  const saved = readFileSync(join(dir, "out.config"), "utf8");
  assert.equal(saved, expected);
  assert.match(saved, /^CONFIG_KVM_AMD=y$/m);
  const set = await runKiln(
    ["config", "set", "COMPILE_TEST=y", "HIGH_RES_TIMERS=y", "KVM=y", "KVM_AMD=y"].concat([
      "--srctree",
      SOURCE,
      "--arch",
      "x86_64",
      "--in",
      join(dir, "empty.config"),
      "--out",
      join(dir, "set.config"),
    ]),
    { timeoutMs: 600_000 },
  );
  assert.equal(set.code, 0, set.stderr);
  assert.equal(saved, readFileSync(join(dir, "set.config"), "utf8"));
  t.diagnostic(`took ${Date.now() - started} ms`);
});
