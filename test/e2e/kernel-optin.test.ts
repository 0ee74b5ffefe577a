/**
 * Opt-in kernel tests (each builds a kernel for many minutes, or needs a
 * Debian mirror); skipped with the reason unless asked for:
 *
 *   KILN_TEST_KERNEL_ARM64=1   the arm64 baseline `Image` cross-built with
 *                              gcc-aarch64-linux-gnu and booted on
 *                              qemu-system-aarch64 -M virt (TCG) to the point
 *                              where it mounts the ext4 root and runs its init
 *   KILN_TEST_FC_CONFIG=1      Firecracker's own 6.1 x86_64 guest config built
 *                              (about 26 min on 2 cores), checked and booted
 *                              on microvm to a busybox init
 *   KILN_TEST_LINUX_DEBIAN=1   a Linuxfile project with a debian:bookworm root
 *                              (sysvinit + OpenRC, mmdebstrap from the host's
 *                              mirror) booted to a login prompt on ttyS0; root
 *                              logs in and lists /dev, /proc and /sys mounted
 *
 * The source is Debian's linux-source-6.1 tarball (KILN_TEST_LINUX_SOURCE for
 * another); KILN_TEST_KERNEL_HOME keeps Kiln's cache between runs.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { bootQemuUntil, busyboxTree } from "../helpers/guests.js";
import { KILN_FROM_SOURCE, REPO_ROOT, runKiln, SHARED_DATA, scratchDir } from "../helpers/kiln.js";

const SOURCE = process.env.KILN_TEST_LINUX_SOURCE ?? "/usr/src/linux-source-6.1.tar.xz";
const noSource = existsSync(SOURCE)
  ? undefined
  : `${SOURCE} does not exist (apt-get install linux-source-6.1)`;
const optIn = (v: string) =>
  process.env[v] ? (noSource ?? false) : `${v} is unset (opt-in: builds a kernel)`;

function kilnHome(dir: string): { KILN_HOME: string } {
  const home = process.env.KILN_TEST_KERNEL_HOME ?? join(dir, "home");
  mkdirSync(home, { recursive: true });
  return { KILN_HOME: home };
}

function busyboxRoot(dir: string, marker: string): string {
  const root = join(dir, "root");
  busyboxTree(root, "sbin/init", ["#!/bin/busybox sh", `echo ${marker}`, "/bin/busybox reboot -f", ""], {
    dirs: ["proc", "dev", "sys"],
  });
  return root;
}

test("arm64: the baseline Image is cross-built and boots on -M virt to its ext4 root's init", {
  skip: optIn("KILN_TEST_KERNEL_ARM64"),
  timeout: 7_200_000,
}, async (t) => {
  const dir = scratchDir(t);
  const env = kilnHome(dir);
  const image = join(dir, "Image");
  let started = Date.now();
  const built = await runKiln(["kernel", "build", "--source", SOURCE, "--arch", "arm64", "-o", image], {
    env,
    timeoutMs: 7_000_000,
  });
  assert.equal(built.code, 0, built.stderr.slice(-4000));
  t.diagnostic(`arm64 baseline build: ${Date.now() - started} ms`);
  // arm64 Image header: "ARM\x64" magic at offset 56.
  assert.equal(readFileSync(image).subarray(56, 60).toString("latin1"), "ARMd");
  const check = await runKiln(["kernel", "check", image, "--for", "firecracker"]);
  assert.equal(check.code, 0, check.stdout);
  // The host's busybox is x86_64, so the guest cannot run it; the kernel mounting the
  // ext4 root and starting its /sbin/init is what this proves.
  const root = busyboxRoot(dir, "unused");
  const disk = join(dir, "root.ext4");
  assert.equal((await runKiln(["rootfs", "build", root, "-o", disk])).code, 0);
  started = Date.now();
  const boot = await bootQemuUntil(
    [
      "qemu-system-aarch64",
      ...["-M", "virt", "-cpu", "cortex-a57", "-accel", "tcg", "-m", "256", "-nographic", "-no-reboot"],
      ...["-kernel", image, "-append", "console=ttyAMA0 root=/dev/vda rw panic=-1"],
      ...["-drive", `file=${disk},format=raw,if=none,id=root`, "-device", "virtio-blk-device,drive=root"],
    ],
    /Run \/sbin\/init as init process/,
    600_000,
  );
  assert.match(boot.out, /EXT4-fs \(vda\): mounted filesystem/, boot.out.slice(-3000));
  assert.match(boot.out, /Run \/sbin\/init as init process/);
  t.diagnostic(`arm64 boot to init on -M virt (TCG): ${Date.now() - started} ms`);
});

test("Firecracker's own 6.1 guest config: built, checked and booted on microvm", {
  skip: optIn("KILN_TEST_FC_CONFIG"),
  timeout: 7_200_000,
}, async (t) => {
  const dir = scratchDir(t);
  const env = kilnHome(dir);
  const config = join(SHARED_DATA, "firecracker/guest_configs/microvm-kernel-ci-x86_64-6.1.config");
  const vmlinux = join(dir, "fc-vmlinux");
  let started = Date.now();
  const built = await runKiln(["kernel", "build", "--source", SOURCE, "--config", config, "-o", vmlinux], {
    env,
    timeoutMs: 7_000_000,
  });
  assert.equal(built.code, 0, built.stderr.slice(-4000));
  t.diagnostic(`Firecracker-config build: ${Date.now() - started} ms`);
  const check = await runKiln(["kernel", "check", vmlinux, "--for", "firecracker"]);
  assert.equal(check.code, 0, check.stdout);
  const disk = join(dir, "root.ext4");
  assert.equal(
    (await runKiln(["rootfs", "build", busyboxRoot(dir, "KILN-FC-CONFIG-BOOT"), "-o", disk])).code,
    0,
  );
  started = Date.now();
  const run = await runKiln(
    [
      "run",
      vmlinux,
      "--rootfs",
      disk,
      "-W",
      "--network",
      "none",
      "--wait-for",
      "KILN-FC-CONFIG-BOOT",
      "--timeout",
      "240",
    ],
    { env, timeoutMs: 300_000 },
  );
  assert.equal(run.code, 0, `${run.stdout.slice(-3000)}\n${run.stderr}`);
  t.diagnostic(`Firecracker-config kernel booted to init: ${Date.now() - started} ms (TCG)`);
});

/**
 * Run `kiln ARGS…` answering the console: each time `expect` matches the new output,
 * its answer is written to kiln's stdin (the console), once per step, in order.
 */
function converse(
  args: string[],
  steps: { expect: RegExp; answer: string }[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(KILN_FROM_SOURCE[0]!, [...KILN_FROM_SOURCE.slice(1), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let seen = 0; // output before this offset answered a step already
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const onData = (c: Buffer) => {
      out += c.toString();
      const step = steps[0];
      if (step?.expect.test(out.slice(seen))) {
        steps.shift();
        seen = out.length;
        child.stdin.write(step.answer);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

test("a Linuxfile project with a debian:bookworm root (sysvinit + OpenRC) reaches login: and mounts /dev, /proc, /sys", {
  skip: optIn("KILN_TEST_LINUX_DEBIAN"),
  timeout: 7_200_000,
}, async (t) => {
  const dir = scratchDir(t);
  const env = kilnHome(dir);
  const project = join(dir, "bookworm");
  mkdirSync(project);
  // The tutorial's root (Firecracker's rootfs guide: Alpine with OpenRC, login on ttyS0, devfs/procfs/sysfs
  // at boot) from Debian packages: sysvinit runs OpenRC's runlevels; root logs in without a password as
  // Alpine's does.
  writeFileSync(
    join(project, "Linuxfile"),
    [
      "name: bookworm",
      "kernel:",
      `  source: ${SOURCE}`,
      "rootfs:",
      "  source: debian:bookworm",
      "  packages: [sysvinit-core, openrc]",
      "  hostname: fc1",
      "  passwordless-root: true",
      "memory: 256M",
      "",
    ].join("\n"),
  );
  let started = Date.now();
  const built = await runKiln(["build", project], { env, timeoutMs: 7_000_000 });
  assert.equal(built.code, 0, built.stderr.slice(-4000));
  t.diagnostic(`kiln build (kernel + debian:bookworm root): ${Date.now() - started} ms`);
  started = Date.now();
  const run = await converse(
    ["run", project, "-W", "--network", "none", "--wait-for", "KILN-MOUNTS-42", "--timeout", "600"],
    [
      { expect: /fc1 login: $/, answer: "root\n" },
      { expect: /root@fc1:~# $/, answer: "mount; echo KILN-MOUNTS-$((6*7))\n" },
    ],
    env,
    660_000,
  );
  assert.equal(run.code, 0, run.out.slice(-4000));
  assert.match(run.out, /OpenRC .*is starting up/);
  assert.match(run.out, /Debian GNU\/Linux 12 fc1 ttyS0/);
  // bash's bracketed-paste switch can precede the first line, and Debian's initramfs names /dev `udev`:
  // the mount type and point are what count.
  for (const m of [/ on \/dev type devtmpfs /, / on \/proc type proc /, / on \/sys type sysfs /])
    assert.match(run.out, m, run.out.slice(-3000));
  t.diagnostic(
    `debian:bookworm project to its login prompt, logged in, mounts listed: ${Date.now() - started} ms (TCG)`,
  );
});
