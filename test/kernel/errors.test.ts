/**
 * `kiln kernel build` refuses bad input before any make runs: a source that
 * is not a kernel tree (directory or tarball, leaving nothing half-extracted
 * in the cache), a missing cross compiler, a fragment line that is not an
 * assignment (unit-tested in src/kernel), conflicting options. Fast: no kernel is configured or built.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { which } from "../../src/core/exec.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";

test("a directory that is not a kernel tree is refused with what is missing", async (t) => {
  const dir = scratchDir(t);
  mkdirSync(join(dir, "src"));
  writeFileSync(join(dir, "src/Makefile"), "all:\n\techo hi\n");
  const r = await runKiln(["kernel", "build", "--source", join(dir, "src"), "-o", join(dir, "vmlinux")], {
    env: { KILN_HOME: join(dir, "home") },
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /error: .*src is not a Linux kernel source tree: its Makefile has no 'VERSION =' and 'PATCHLEVEL =' lines/,
  );
  assert.match(r.stderr, /hint: pass the top directory of a Linux tree/);
  assert.equal(existsSync(join(dir, "vmlinux")), false);
});

test("a tarball that is not a kernel tree is refused and leaves nothing in the cache", async (t) => {
  const dir = scratchDir(t);
  mkdirSync(join(dir, "proj/docs"), { recursive: true });
  writeFileSync(join(dir, "proj/README"), "not linux\n");
  const tarball = join(dir, "proj.tar.gz");
  execFileSync("tar", ["-czf", tarball, "-C", dir, "proj"]);
  const home = join(dir, "home");
  const r = await runKiln(["kernel", "build", "--source", tarball, "-o", join(dir, "vmlinux")], {
    env: { KILN_HOME: home },
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /proj\.tar\.gz is not a Linux kernel source tree: no readable Makefile/);
  assert.deepEqual(readdirSync(join(home, "cache/kernel/sources")), []);
});

test("an arm64 build without the cross compiler names the package to install", async (t) => {
  const dir = scratchDir(t);
  // A PATH with the host's build tools but no aarch64-linux-gnu-gcc.
  const bin = join(dir, "bin");
  mkdirSync(bin);
  for (const tool of ["gcc", "make", "flex", "bison", "bc", "tar"]) {
    const p = which(tool);
    if (p) symlinkSync(p, join(bin, tool));
  }
  const r = await runKiln(["kernel", "build", "--source", dir, "--arch", "arm64", "-o", join(dir, "Image")], {
    env: { PATH: bin, KILN_HOME: join(dir, "home") },
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /error: aarch64-linux-gnu-gcc not found: building an arm64 kernel on this x86_64 host needs a cross compiler/,
  );
  assert.match(r.stderr, /hint: on Debian\/Ubuntu: apt-get install gcc-aarch64-linux-gnu/);
});

test("usage errors: --config with --baseline, an unknown --arch; kernel check on a missing file", async (t) => {
  const dir = scratchDir(t);
  const both = await runKiln(["kernel", "build", "--source", dir, "--config", "x", "--baseline"]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--config and --baseline exclude each other/);
  const arch = await runKiln(["kernel", "build", "--source", dir, "--arch", "riscv64"]);
  assert.equal(arch.code, 2);
  assert.match(arch.stderr, /--arch "riscv64" is not one of x86_64, arm64/);
  const check = await runKiln(["kernel", "check", join(dir, "nope.config")]);
  assert.equal(check.code, 1);
  assert.match(check.stderr, /nope\.config cannot be read/);
});
