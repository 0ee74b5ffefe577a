/**
 * Linuxfile parsing: a valid project normalized, and each mistake reported
 * at its line and column (as Kraftfile problems are).
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  linuxfileIn,
  linuxRunSettings,
  parseLinuxfile,
} from "../../src/orchestration/linux-project/index.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";

const GOOD = `spec: linux/v1
name: hello-fc
kernel:
  source: /usr/src/linux-source-6.1.tar.xz
  fragments: [./extra.config]
rootfs:
  source: debian:bookworm
  packages: [openrc]
  hostname: fc1
init: /sbin/openrc-init
cmdline: quiet loglevel=3
memory: 256M
cpus: 2
ports: ["8080:80"]
`;

test("a Linuxfile becomes a project: kernel from source with the baseline, rootfs with guest set-up", () => {
  const { project, problems } = parseLinuxfile(GOOD, "Linuxfile");
  assert.deepEqual(problems, []);
  assert.deepEqual(project?.kernel, {
    kind: "source",
    source: "/usr/src/linux-source-6.1.tar.xz",
    arch: "x86_64",
    fragments: ["./extra.config"],
  });
  assert.deepEqual(project?.rootfs, {
    source: "debian:bookworm",
    format: "ext4",
    packages: ["openrc"],
    guestSetup: true,
    hostname: "fc1",
  });
  assert.deepEqual(project?.cmdline, ["quiet", "loglevel=3"]);
  assert.equal(project?.cpus, 2);
});

test("rootfs.passwordless-root: true implies guest set-up", () => {
  const text = "kernel: {file: ./vmlinux}\nrootfs:\n  source: debian:bookworm\n  passwordless-root: true\n";
  const { project, problems } = parseLinuxfile(text, "Linuxfile");
  assert.deepEqual(problems, []);
  assert.equal(project?.rootfs.guestSetup, true);
  assert.equal(project?.rootfs.passwordlessRoot, true);
});

test("Linuxfile mistakes are reported with line and column", () => {
  const text = [
    "name: x",
    "kernel:",
    "  source: /src",
    "  file: ./vmlinux",
    "  arch: riscv",
    "rootfs:",
    "  format: btrfs",
    "  sourse: ./root",
    "  passwordless-root: yes please",
    "cpus: two",
    "",
  ].join("\n");
  const { project, problems } = parseLinuxfile(text, "Linuxfile");
  assert.equal(project, undefined);
  assert.deepEqual(
    problems.map((p) => `${p.line}:${p.col} ${p.message}`),
    [
      "5:9 `kernel.arch` must be one of x86_64, arm64, got riscv",
      "3:3 `kernel` needs exactly one of `source` (a Linux tree or tarball to build) and `file` (a built kernel)",
      "8:3 unknown key `sourse` in rootfs; known keys: source, format, packages, guest-setup, hostname, passwordless-root, size",
      "7:3 missing `rootfs.source`",
      "7:11 `rootfs.format` must be ext4 or erofs, got btrfs",
      "9:22 `rootfs.passwordless-root` must be true or false",
      "10:7 `cpus` must be a positive whole number",
    ],
  );
  assert.deepEqual(
    parseLinuxfile("kernel: [\n", "Linuxfile").problems.map((p) => p.line),
    [2],
  );
});

test("kiln build on a bad Linuxfile names the file, line and column; kiln run before a build says so", async (t) => {
  const dir = scratchDir(t);
  writeFileSync(
    join(dir, "Linuxfile"),
    "kernel:\n  file: ./vmlinux\nrootfs:\n  source: ./root\nmemory: [1]\n",
  );
  assert.equal(linuxfileIn(dir), join(dir, "Linuxfile"));
  const r = await runKiln(["build", dir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Linuxfile:5:9: `memory` must be a non-empty string/);
  writeFileSync(join(dir, "Linuxfile"), "kernel:\n  file: ./vmlinux\nrootfs:\n  source: ./root\n");
  const run = await runKiln(["run", dir, "-W"]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /is not built: .*vmlinux does not exist/);
  // A Kraftfile beside it wins: the directory is a Unikraft project.
  mkdirSync(join(dir, "sub"));
  writeFileSync(join(dir, "Kraftfile"), "spec: v0.6\nruntime: base:latest\n");
  assert.equal(linuxfileIn(dir), undefined);
  assert.throws(
    () => linuxRunSettings(parseLinuxfile("kernel: {file: k}\nrootfs: {source: r}\n", "L").project!, dir),
    /not built/,
  );
});
