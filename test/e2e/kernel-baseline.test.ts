/**
 * Slow (a kernel build: a few minutes on 2 cores): Kiln's microVM baseline
 * built from Debian's linux-source-6.1 tarball with `kiln kernel build`,
 * checked with `kiln kernel check`, booted on `-M microvm,acpi=off` (TCG)
 * with a Kiln-built ext4 root whose init prints a marker; the same root
 * boots with Debian's stock kernel on `-M pc`; the second build of the same
 * request is a cache hit; an option that cannot be set stops the build.
 *
 * KILN_TEST_LINUX_SOURCE names another source (directory or tarball);
 * KILN_TEST_KERNEL_HOME keeps Kiln's cache between runs (a local re-run then
 * skips the build).
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { bootQemuUntil, busyboxTree, debianInitrd, noBusybox, noQemu } from "../helpers/guests.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";

const SOURCE = process.env.KILN_TEST_LINUX_SOURCE ?? "/usr/src/linux-source-6.1.tar.xz";
const skip = existsSync(SOURCE)
  ? (noQemu() ?? noBusybox() ?? false)
  : `${SOURCE} does not exist (apt-get install linux-source-6.1, or set KILN_TEST_LINUX_SOURCE)`;

// One Kiln home for the file, so the project test below finds the kernel the first test built.
const home = process.env.KILN_TEST_KERNEL_HOME ?? mkdtempSync(join(tmpdir(), "kiln-kernel-home-"));
mkdirSync(home, { recursive: true });
after(() => {
  if (!process.env.KILN_TEST_KERNEL_HOME) rmSync(home, { recursive: true, force: true });
});
const env = { KILN_HOME: home };

/** A busybox root whose init prints the marker line, then reboots (no ACPI: reboot ends the VM). */
function markerRoot(root: string, marker: string): void {
  busyboxTree(
    root,
    "sbin/init",
    [
      "#!/bin/busybox sh",
      "/bin/busybox mount -t proc proc /proc",
      'fs=$(/bin/busybox awk \'$2 == "/" && $3 != "rootfs" { print $3 }\' /proc/mounts)',
      `echo "${marker}-$((6*7)) $(/bin/busybox cat /etc/marker) fs=$fs cpus=$(/bin/busybox grep -c ^processor /proc/cpuinfo)"`,
      `echo ${marker}-DONE`,
      "/bin/busybox reboot -f",
      "",
    ],
    { dirs: ["etc", "proc", "dev", "sys", "tmp"] },
  );
  writeFileSync(join(root, "etc/marker"), "from-the-ext4-root\n");
}

test("Kiln's microVM baseline: built from linux-source-6.1, checked, booted on microvm,acpi=off, cached", {
  skip,
  timeout: 3_600_000,
}, async (t) => {
  const dir = scratchDir(t);
  const vmlinux = join(dir, "vmlinux");

  let started = Date.now();
  const first = await runKiln(["kernel", "build", "--source", SOURCE, "-o", vmlinux, "--json"], {
    env,
    timeoutMs: 3_500_000,
  });
  assert.equal(first.code, 0, first.stderr.slice(-4000));
  const built = JSON.parse(first.stdout) as {
    cached: boolean;
    steps: number;
    version: string;
    sizeBytes: number;
  };
  t.diagnostic(
    `first build: ${Date.now() - started} ms, ${built.cached ? "from the cache (KILN_TEST_KERNEL_HOME)" : `${built.steps} steps`}, Linux ${built.version}, vmlinux ${built.sizeBytes} bytes`,
  );
  // An x86_64 ELF with its configuration beside it.
  assert.deepEqual([...readFileSync(vmlinux).subarray(0, 5)], [0x7f, 0x45, 0x4c, 0x46, 2]);
  const config = readFileSync(`${vmlinux}.config`, "utf8");
  for (const o of ["PVH", "VIRTIO_MMIO_CMDLINE_DEVICES", "VIRTIO_BLK", "EXT4_FS", "EROFS_FS", "9P_FS"]) {
    assert.match(config, new RegExp(`^CONFIG_${o}=y$`, "m"), o);
  }
  assert.match(config, /^# CONFIG_ACPI is not set$|^(?![\s\S]*CONFIG_ACPI=y)/m);
  assert.doesNotMatch(config, /^CONFIG_PCI=y$/m);
  assert.doesNotMatch(config, /^CONFIG_MODULES=y$/m);

  // The same request again: the cached kernel, no make.
  started = Date.now();
  const again = await runKiln(["kernel", "build", "--source", SOURCE, "-o", join(dir, "again"), "--json"], {
    env,
  });
  assert.equal(again.code, 0, again.stderr);
  assert.equal((JSON.parse(again.stdout) as { cached: boolean }).cached, true);
  assert.deepEqual(readFileSync(join(dir, "again")), readFileSync(vmlinux));
  t.diagnostic(`second build (cache hit): ${Date.now() - started} ms including Node start-up`);

  // kernel check passes the baseline for every microVM machine.
  for (const machine of ["firecracker", "qemu-microvm"]) {
    const ok = await runKiln(["kernel", "check", vmlinux, "--for", machine]);
    assert.equal(ok.code, 0, `${machine}: ${ok.stdout}${ok.stderr}`);
    assert.match(ok.stdout, new RegExp(`has every option ${machine} needs`));
  }

  // A busybox root on a Kiln ext4 image; its init proves it runs from that disk.
  const root = join(dir, "root");
  markerRoot(root, "KILN-BASELINE");
  const image = join(dir, "root.ext4");
  const made = await runKiln(["rootfs", "build", root, "-o", image]);
  assert.equal(made.code, 0, made.stderr);

  started = Date.now();
  const run = await runKiln(
    [
      "run",
      vmlinux,
      "--rootfs",
      image,
      "-W",
      "--cpus",
      "2",
      "--network",
      "none",
      "--wait-for",
      "BASELINE-DONE",
      "--timeout",
      "240",
    ],
    { env, timeoutMs: 300_000 },
  );
  assert.equal(run.code, 0, `${run.stdout.slice(-3000)}\n${run.stderr}`);
  assert.match(run.stdout, /KILN-BASELINE-42 from-the-ext4-root fs=ext4 cpus=\d/);
  t.diagnostic(
    `booted the baseline on microvm,acpi=off to the root's init in ${Date.now() - started} ms (TCG), ${/cpus=(\d+)/.exec(run.stdout)?.[1]} of 2 vCPUs online`,
  );

  // The same root with Debian's stock kernel and initramfs on -M pc.
  const debian = debianInitrd();
  if (debian.skip) {
    t.diagnostic(`Debian kernel boot skipped: ${debian.skip}`);
  } else {
    started = Date.now();
    const pc = await bootQemuUntil(
      [
        "qemu-system-x86_64",
        ...["-M", "pc", "-accel", "tcg", "-m", "512", "-nographic", "-no-reboot"],
        ...["-kernel", debian.kernel!, "-initrd", debian.initrd!],
        ...["-drive", `file=${image},format=raw,if=virtio`],
        ...["-append", "root=/dev/vda rw console=ttyS0 panic=-1 quiet"],
      ],
      /KILN-BASELINE-DONE/,
      240_000,
    );
    assert.match(pc.out, /KILN-BASELINE-42 from-the-ext4-root fs=ext4/, pc.out.slice(-3000));
    t.diagnostic(`the same root booted with Debian's kernel on -M pc in ${Date.now() - started} ms (TCG)`);
  }

  // An option whose dependency a fragment turns off: refused before make, naming both, with
  // Kiln's Kconfig engine (the default) and with the kernel's own C tools.
  const fragment = join(dir, "no-misc.config");
  writeFileSync(fragment, "# CONFIG_MISC_FILESYSTEMS is not set\n");
  const refuse = (engine: string) =>
    runKiln(["kernel", "build", "--source", SOURCE, "--fragment", fragment, "-o", join(dir, "x")], {
      env: { ...env, KILN_KCONFIG_ENGINE: engine },
      timeoutMs: 600_000,
    });
  const refused = await refuse("kiln");
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(
    refused.stderr,
    /error: 4 requested options cannot be set: CONFIG_EROFS_FS, CONFIG_EROFS_FS_ZIP, CONFIG_SQUASHFS, CONFIG_SQUASHFS_ZLIB/,
  );
  assert.match(
    refused.stderr,
    /CONFIG_EROFS_FS=y \(baseline:\d+\) ended as n: depends on MISC_FILESYSTEMS && BLOCK — MISC_FILESYSTEMS is n/,
  );
  assert.match(
    refused.stderr,
    /override: CONFIG_MISC_FILESYSTEMS y \(baseline:\d+\) → n \(.*no-misc\.config:1\)/,
  );
  const byMake = await refuse("make");
  assert.equal(byMake.code, 1, byMake.stderr);
  assert.match(
    byMake.stderr,
    /CONFIG_EROFS_FS=y \(baseline:\d+\) ended as n: inside if MISC_FILESYSTEMS \(MISC_FILESYSTEMS=n\)/,
  );
  assert.equal(existsSync(join(dir, "x")), false);
});

test("a Linuxfile project: kiln build (kernel from the cache, ext4 root from a directory), kiln run to its init", {
  skip,
  timeout: 3_600_000,
}, async (t) => {
  const dir = scratchDir(t);
  const project = join(dir, "hello-linux");
  markerRoot(join(project, "root"), "KILN-PROJECT");
  writeFileSync(
    join(project, "Linuxfile"),
    [
      "spec: linux/v1",
      "name: hello-linux",
      "kernel:",
      `  source: ${SOURCE}`,
      "rootfs:",
      "  source: ./root",
      "memory: 128M",
      "cpus: 2",
      "",
    ].join("\n"),
  );
  let started = Date.now();
  const built = await runKiln(["build", project], { env, timeoutMs: 3_500_000 });
  assert.equal(built.code, 0, built.stderr.slice(-4000));
  assert.match(built.stdout, /kernel .*vmlinux \(Linux 6\.1\.\d+ x86_64, (from the cache|\d+ steps)\)/);
  assert.match(built.stdout, /rootfs .*rootfs\.ext4/);
  t.diagnostic(
    `kiln build: ${Date.now() - started} ms (${/from the cache/.test(built.stdout) ? "kernel from the cache" : "kernel built"})`,
  );
  started = Date.now();
  const run = await runKiln(
    ["run", project, "-W", "--network", "none", "--wait-for", "KILN-PROJECT-DONE", "--timeout", "240"],
    {
      env,
      timeoutMs: 300_000,
    },
  );
  assert.equal(run.code, 0, `${run.stdout.slice(-3000)}\n${run.stderr}`);
  assert.match(run.stdout, /KILN-PROJECT-42 from-the-ext4-root fs=ext4 cpus=\d/);
  t.diagnostic(`kiln run of the project to its init: ${Date.now() - started} ms (TCG)`);
});
