/**
 * `kiln config VERB -t TARGET` on a Kraftfile project over the fixture core:
 * the target's .config is the one kiln build writes, `why` names the
 * blocking term and the Kraftfile line, `set --save` / `unset --save` edit the
 * Kraftfile's kconfig where the entry is written (comments kept), and an
 * impossible value is refused with its reason.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadProject } from "../../src/kraftfile/load.js";
import { configureFromPlan, openTargetKconfig } from "../../src/orchestration/unikraft-config.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { writeFixtureKraftfile } from "./fixture-project.js";

/** Comments on a core entry and a target: saving must keep them; `why` names these lines. */
const PARTS = {
  core: ["# deeper stacks for the app", "CONFIG_STACK_SIZE_PAGE_ORDER: 5"],
  lib: ["- CONFIG_LIBFOO=y"],
  targets: ["qemu/x86_64   # the one we run", "fc/x86_64"],
};

test("kiln config olddefconfig -t writes the target's .config as kiln build does; why names the Kraftfile line", async (t) => {
  const dir = writeFixtureKraftfile(scratchDir(t), PARTS);
  const env = { KILN_HOME: join(dir, "home") };
  const r = await runKiln(["config", "olddefconfig", "-t", "hello_qemu-x86_64", dir], { env });
  assert.equal(r.code, 0, r.stderr);
  const cfg = join(dir, ".config.hello_qemu-x86_64");
  const { project } = await loadProject(dir, { env: process.env });
  const tk = await openTargetKconfig(project, project.targets[0]!, { fetch: false });
  assert.equal(readFileSync(cfg, "utf8"), configureFromPlan(tk).dotconfig());
  assert.match(readFileSync(cfg, "utf8"), /^CONFIG_STACK_SIZE_PAGE_ORDER=5$/m);

  // savedefconfig as Unikraft's make writes it: conf's minimal lines, the (host's) architecture, the name
  const saved = await runKiln(["config", "savedefconfig", "-t", "hello_qemu-x86_64", dir], { env });
  assert.equal(saved.code, 0, saved.stderr);
  const arch = process.arch === "x64" ? "CONFIG_ARCH_X86_64=y\n" : "";
  assert.equal(
    readFileSync(join(dir, "defconfig.hello_qemu-x86_64"), "utf8"),
    `CONFIG_STACK_SIZE_PAGE_ORDER=5\nCONFIG_PLAT_KVM=y\n# CONFIG_LIBUKRANDOM is not set\nCONFIG_LIBFOO=y\n${arch}CONFIG_UK_NAME="hello"\n`,
  );

  const why = await runKiln(["config", "why", "STACK_SIZE_PAGE_ORDER", "-t", "hello_qemu-x86_64", dir], {
    env,
  });
  assert.match(why.stdout, /^CONFIG_STACK_SIZE_PAGE_ORDER=5 \(int/m);
  assert.match(why.stdout, /set by the Kraftfile: core = 5 \(line 7\)/);
  const blocked = await runKiln(
    ["config", "why", "LIBVFSCORE_ROOTFS_INITRD", "-t", "hello_qemu-x86_64", dir, "--json"],
    { env },
  );
  const facts = JSON.parse(blocked.stdout).why;
  assert.deepEqual(facts.dependsOn.blocking, [
    "LIBVFSCORE is n",
    "LIBUKCPIO is not defined (n)",
    "LIBUKRANDOM is n",
  ]);
});

test("kiln config set --save -t edits the Kraftfile where each entry is set, keeping comments; unset --save removes", async (t) => {
  const dir = writeFixtureKraftfile(scratchDir(t), PARTS);
  const env = { KILN_HOME: join(dir, "home") };
  const r = await runKiln(
    ["config", "set", "LIBVFSCORE=y", "STACK_SIZE_PAGE_ORDER=6", "-t", "hello_qemu-x86_64", "--save", dir],
    { env },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /saved CONFIG_STACK_SIZE_PAGE_ORDER=6 in .*Kraftfile \(core\)/);
  assert.match(r.stdout, /saved CONFIG_LIBVFSCORE=y in .*Kraftfile \(target hello_qemu-x86_64\)/);
  const kf = readFileSync(join(dir, "Kraftfile"), "utf8");
  assert.match(kf, / {4}# deeper stacks for the app\n {4}CONFIG_STACK_SIZE_PAGE_ORDER: 6\n/);
  assert.match(
    kf,
    / {2}# the one we run\n {2}- platform: qemu\n {4}architecture: x86_64\n {4}kconfig:\n {6}CONFIG_LIBVFSCORE: y\n {2}- fc\/x86_64\n/,
  );
  const cfg = readFileSync(join(dir, ".config.hello_qemu-x86_64"), "utf8");
  assert.match(cfg, /^CONFIG_LIBVFSCORE=y\nCONFIG_LIBVFSCORE_NFILES=64$/m);

  // the saved Kraftfile alone gives the same configuration (what the next kiln build writes)
  const { project } = await loadProject(dir, { env: process.env });
  const tk = await openTargetKconfig(project, project.targets[0]!, { fetch: false });
  assert.equal(configureFromPlan(tk).dotconfig(), cfg);

  const u = await runKiln(
    ["config", "unset", "STACK_SIZE_PAGE_ORDER", "-t", "hello_qemu-x86_64", "--save", dir],
    {
      env,
    },
  );
  assert.equal(u.code, 0, u.stderr);
  assert.doesNotMatch(readFileSync(join(dir, "Kraftfile"), "utf8"), /STACK_SIZE_PAGE_ORDER/);
  assert.match(
    readFileSync(join(dir, ".config.hello_qemu-x86_64"), "utf8"),
    /^CONFIG_STACK_SIZE_PAGE_ORDER=4$/m,
  );
});

test("kiln config set -t refuses an impossible value with the reason; several targets need -t", async (t) => {
  const dir = writeFixtureKraftfile(scratchDir(t), PARTS);
  const env = { KILN_HOME: join(dir, "home") };
  const r = await runKiln(
    ["config", "set", "LIBVFSCORE=y", "LIBVFSCORE_ROOTFS_INITRD=y", "-t", "hello_fc-x86_64", dir, "--json"],
    { env },
  );
  assert.equal(r.code, 1);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.set.refused[0].symbol, "LIBVFSCORE_ROOTFS_INITRD");
  assert.match(doc.set.refused[0].reason, /LIBUKCPIO is not defined/);
  const amb = await runKiln(["config", "why", "LIBFOO", dir], { env });
  assert.equal(amb.code, 1);
  assert.match(amb.stderr, /2 targets are defined in .*Kraftfile; choose one/);
});
