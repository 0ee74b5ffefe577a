/**
 * `kiln config` from the command line on a small Linux-shaped tree written
 * by the test (top Makefile with the version, Kconfig, arch/x86/Kconfig, a
 * defconfig, a `$(shell,…)` probe run through the real shell): olddefconfig
 * writes conf's format, why explains with --json, set refuses what
 * dependencies forbid and reports consequences, fragments report what they
 * override and what did not survive.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runKiln, scratchDir } from "../helpers/kiln.js";

function linuxLikeTree(root: string): string {
  const src = join(root, "linux");
  mkdirSync(join(src, "arch/x86/configs"), { recursive: true });
  writeFileSync(
    join(src, "Makefile"),
    "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 7\nEXTRAVERSION = -test\nNAME = Fixture\n",
  );
  writeFileSync(
    join(src, "Kconfig"),
    [
      'mainmenu "Linux/$(ARCH) $(KERNELVERSION) Kernel Configuration"',
      "",
      "config HAS_ECHO",
      "\tdef_bool $(shell,command -v echo >/dev/null && echo y || echo n)",
      "",
      'source "arch/$(SRCARCH)/Kconfig"',
      "",
      "config NET",
      '\tbool "Networking"',
      "\tdefault y",
      "",
      "config VIRTIO_NET",
      '\tbool "virtio net"',
      "\tdepends on NET && PCI",
      "\tselect NET_FAILOVER",
      "",
      "config NET_FAILOVER",
      "\tbool",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(src, "arch/x86/Kconfig"),
    'config X86_64\n\tdef_bool y\n\nconfig PCI\n\tbool "PCI support"\n',
  );
  writeFileSync(join(src, "arch/x86/configs/x86_64_defconfig"), "CONFIG_PCI=y\nCONFIG_VIRTIO_NET=y\n");
  return src;
}

test("kiln config: olddefconfig, defconfig, why --json, set/unset, fragments", async (t) => {
  const dir = scratchDir(t);
  const src = linuxLikeTree(dir);
  const env = { KILN_HOME: join(dir, "home") };
  const base = ["--srctree", src, "--arch", "x86_64"];
  writeFileSync(join(dir, "in.config"), "CONFIG_PCI=y\nCONFIG_VIRTIO_NET=y\n");

  const old = await runKiln(["config", "olddefconfig", ...base, "--in", "in.config", "--out", "out.config"], {
    cwd: dir,
    env,
  });
  assert.equal(old.code, 0, old.stderr);
  assert.equal(
    readFileSync(join(dir, "out.config"), "utf8"),
    "#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86_64 6.1.7-test Kernel Configuration\n#\nCONFIG_HAS_ECHO=y\nCONFIG_X86_64=y\nCONFIG_PCI=y\nCONFIG_NET=y\nCONFIG_VIRTIO_NET=y\nCONFIG_NET_FAILOVER=y\n",
  );

  const def = await runKiln(["config", "defconfig", ...base, "--out", "def.config"], { cwd: dir, env });
  assert.equal(def.code, 0, def.stderr);
  assert.match(readFileSync(join(dir, "def.config"), "utf8"), /^CONFIG_VIRTIO_NET=y$/m);

  const why = await runKiln(
    ["config", "why", "CONFIG_NET_FAILOVER", ...base, "--in", "out.config", "--json"],
    { cwd: dir, env },
  );
  assert.equal(why.code, 0, why.stderr);
  const facts = JSON.parse(why.stdout).why;
  assert.equal(facts.value, "y");
  assert.deepEqual(
    facts.definitions,
    [{ file: "Kconfig", line: 17, prompt: undefined, menuPath: [] }].map(({ prompt: _p, ...d }) => d),
  );
  assert.deepEqual(
    facts.selectedBy.map((s: { symbol: string; active: boolean }) => [s.symbol, s.active]),
    [["VIRTIO_NET", true]],
  );

  // PCI=n takes VIRTIO_NET and NET_FAILOVER with it; NET_FAILOVER has no prompt, so it is refused
  const set = await runKiln(
    [
      "config",
      "set",
      "PCI=n",
      "NET_FAILOVER=y",
      ...base,
      "--in",
      "out.config",
      "--out",
      "set.config",
      "--json",
    ],
    { cwd: dir, env },
  );
  assert.equal(
    set.code,
    1,
    `a refused value makes the command fail: ${set.stdout.slice(0, 300)} ${set.stderr}`,
  );
  const report = JSON.parse(set.stdout).set;
  assert.deepEqual(report.applied, [{ symbol: "PCI", value: "n" }]);
  assert.deepEqual(report.refused, [
    {
      symbol: "NET_FAILOVER",
      requested: "y",
      reason:
        "NET_FAILOVER cannot be set: NET_FAILOVER has no prompt: only its defaults, selects and implies set it",
    },
  ]);
  assert.deepEqual(report.changes, [
    { symbol: "VIRTIO_NET", from: "y", to: "n" },
    { symbol: "NET_FAILOVER", from: "y", to: "n" },
  ]);
  // VIRTIO_NET is now invisible and unselected: conf does not write it at all
  assert.ok(
    readFileSync(join(dir, "set.config"), "utf8").endsWith(
      "CONFIG_X86_64=y\n# CONFIG_PCI is not set\nCONFIG_NET=y\n",
    ),
  );
  const refused = await runKiln(
    ["config", "set", "VIRTIO_NET=y", ...base, "--in", "set.config", "--out", "x.config"],
    { cwd: dir, env },
  );
  assert.equal(refused.code, 1);
  assert.match(refused.stdout, /^refused VIRTIO_NET=y: VIRTIO_NET cannot be set: PCI is n$/m);

  writeFileSync(
    join(dir, "frag.config"),
    "# CONFIG_NET is not set\nCONFIG_VIRTIO_NET=y\n# CONFIG_PCI is not set\n",
  );
  const merged = await runKiln(
    ["config", "defconfig", ...base, "--fragment", "frag.config", "--out", "m.config", "--json"],
    { cwd: dir, env },
  );
  assert.equal(merged.code, 0, merged.stderr);
  const m = JSON.parse(merged.stdout);
  assert.deepEqual(
    m.dropped.map((d: { symbol: string; reason: string }) => [d.symbol, d.reason]),
    [["VIRTIO_NET", "depends on NET && PCI — NET is n, PCI is n"]],
  );
  assert.deepEqual(
    m.overrides.map((o: { symbol: string }) => o.symbol),
    ["PCI"],
  );
});
