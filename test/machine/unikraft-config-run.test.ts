/**
 * `kiln run` fits a Unikraft image's own configuration (its `.config`, where
 * `kiln build` keeps it): the 9p tag its root automount looks for (app-sqlite's
 * 9pfs target: `CONFIG_LIBVFSCORE_ROOTDEV="fs1"`), no `vfs.fstab` entry for a
 * volume it mounts itself, no NIC without a network stack, and `kiln stop`
 * without waiting for an ACPI power-off Unikraft never does. Real QEMU (TCG)
 * with the Multiboot stand-in as the project's built image.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseDotconfig, unikraftImageFacts } from "../../src/machine/unikraft-image.js";
import { fitUnikraftRun } from "../../src/machine/unikraft-run.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { buildMultibootStandin } from "./guests.js";

const V016_9PFS_ROOT = [
  'CONFIG_UK_NAME="app"',
  'CONFIG_UK_ARCH="x86_64"',
  "CONFIG_LIBVFSCORE_AUTOMOUNT_ROOTFS=y",
  "CONFIG_LIBVFSCORE_ROOTFS_9PFS=y",
  'CONFIG_LIBVFSCORE_ROOTFS="9pfs"',
  'CONFIG_LIBVFSCORE_ROOTDEV="fs1"',
  "CONFIG_LIBVFSCORE_FSTAB=y",
  "# CONFIG_LIBUKNETDEV is not set",
  "",
].join("\n");

test("facts from .config: 0.16's root automount and fstab, 0.17's compiled-in and fallback tables, the network stack", () => {
  assert.deepEqual(unikraftImageFacts(parseDotconfig(V016_9PFS_ROOT)), {
    automounts9p: [{ guestPath: "/", tag: "fs1" }],
    fstab: true,
    network: false,
  });
  const v017 = parseDotconfig(
    [
      'CONFIG_UK_ARCH="arm64"',
      "CONFIG_LIBVFSCORE_AUTOMOUNT_CI=y",
      "CONFIG_LIBVFSCORE_AUTOMOUNT_CI_CUSTOM=y",
      'CONFIG_LIBVFSCORE_AUTOMOUNT_CI0_DEV="data"',
      'CONFIG_LIBVFSCORE_AUTOMOUNT_CI0_MP="/data"',
      'CONFIG_LIBVFSCORE_AUTOMOUNT_CI0_DRIVER="9pfs"',
      "CONFIG_LIBVFSCORE_AUTOMOUNT_FB=y",
      "CONFIG_LIBVFSCORE_AUTOMOUNT_FB_9PFS=y",
      'CONFIG_LIBVFSCORE_AUTOMOUNT_FB_9PFS_TAG="rootfs"',
      "CONFIG_LIBVFSCORE_AUTOMOUNT_UP=y",
      "CONFIG_LIBUKNETDEV=y",
    ].join("\n"),
  );
  assert.deepEqual(unikraftImageFacts(v017), {
    automounts9p: [
      { guestPath: "/data", tag: "data" },
      { guestPath: "/", tag: "rootfs" },
    ],
    fstab: true,
    network: true,
  });
  // An initrd root: nothing mounted from 9p, no fstab, no network.
  assert.deepEqual(
    unikraftImageFacts(
      parseDotconfig('CONFIG_LIBVFSCORE_AUTOMOUNT_ROOTFS=y\nCONFIG_LIBVFSCORE_ROOTFS="initrd"\n'),
    ),
    { automounts9p: [], fstab: false, network: false },
  );
});

test("fitting a run: the automounted root takes its tag, other volumes skip it, missing mounts and fstab are warned about", () => {
  const facts = unikraftImageFacts(parseDotconfig(V016_9PFS_ROOT));
  const vol = (guestPath: string, tag: string, more = {}) => ({
    hostPath: `/h${guestPath}`,
    guestPath,
    readonly: false,
    tag,
    ...more,
  });
  const opts = { network: "user" as const, networkGiven: false, portCount: 0, configPath: "/p/.config.t" };
  const fit = fitUnikraftRun([vol("/data", "fs0"), vol("/", "fs1"), vol("/logs", "fs2")], facts, opts);
  assert.deepEqual(
    fit.volumes.map((v) => [v.guestPath, v.tag, v.automounted === true]),
    [
      ["/data", "fs0", false],
      ["/", "fs1", true],
      ["/logs", "fs2", false],
    ],
  );
  assert.equal(fit.network, "none");
  assert.deepEqual(fit.warnings, []);
  // The root volume given first: it takes fs1, the next one fs0 (not a second fs1).
  const first = fitUnikraftRun([vol("/", "fs0"), vol("/data", "fs1")], facts, opts);
  assert.deepEqual(
    first.volumes.map((v) => v.tag),
    ["fs1", "fs0"],
  );
  // No volume for the root it mounts; published ports keep the NIC.
  const none = fitUnikraftRun([], facts, { ...opts, portCount: 1 });
  assert.equal(none.network, "user");
  assert.match(
    none.warnings.join("\n"),
    /mounts \/ from 9p tag "fs1" at boot \(\/p\/\.config\.t\).*add -v DIR:\//,
  );
  const noFstab = unikraftImageFacts(parseDotconfig('CONFIG_UK_ARCH="x86_64"\n'));
  assert.match(
    fitUnikraftRun([vol("/data", "fs0")], noFstab, opts).warnings.join("\n"),
    /reads no vfs\.fstab .*: \/data will not be mounted/,
  );
});

test("kiln run -v ./rootfs:/ on a built 9pfs-root target: tag fs1 from its .config, no fstab entry for /, no NIC; kiln stop does not wait for ACPI", async (t) => {
  const dir = scratchDir(t);
  const project = join(dir, "app");
  mkdirSync(join(project, ".unikraft/build"), { recursive: true });
  mkdirSync(join(project, "rootfs"));
  mkdirSync(join(project, "data"));
  writeFileSync(
    join(project, "Kraftfile"),
    "spec: v0.6\nname: app\nunikraft: stable\ntargets:\n  - qemu/x86_64\n",
  );
  writeFileSync(join(project, ".config.app_qemu-x86_64"), V016_9PFS_ROOT);
  copyFileSync(buildMultibootStandin(dir), join(project, ".unikraft/build/app_qemu-x86_64"));
  const env = { KILN_HOME: dir };
  const r = await runKiln(
    ["run", "-W", "-n", "ninep", "-v", "./rootfs:/", "-v", "./data:/data", "--", "exit=2"],
    {
      cwd: project,
      env,
    },
  );
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stdout, /cmdline: \S+ vfs\.fstab=\[ 'fs0:\/data:9pfs:::mkmp' \] -- exit=2/);
  const inspect = await runKiln(["inspect", "ninep"], { env });
  const command = /^command: +(.*)$/m.exec(inspect.stdout)?.[1] ?? "";
  assert.match(
    command,
    /path=\S+\/rootfs,security_model=none -device virtio-9p-pci,fsdev=fsdev0,mount_tag=fs1/,
  );
  assert.match(command, /mount_tag=fs0/);
  assert.doesNotMatch(command, /-netdev|virtio-net/);

  // A running Unikraft guest is stopped with QMP quit, not after a 600 s wait for an ACPI power-off.
  const d = await runKiln(["run", "-W", "-d", "-n", "idle", "--", "hang"], { cwd: project, env });
  assert.equal(d.code, 0, d.stderr);
  const stop = await runKiln(["stop", "-t", "600", "idle"], { env, timeoutMs: 60_000 });
  assert.equal(stop.code, 0, `kiln stop -t 600 did not finish within the test's 60 s: ${stop.stderr}`);
  const ps = await runKiln(["ps", "-a", "--json"], { env });
  const idle = (JSON.parse(ps.stdout) as { name: string; state: string }[]).find((m) => m.name === "idle");
  assert.equal(idle?.state, "exited");
});
