/**
 * `kiln run` on a project directory: target choice, "not built", and a built
 * target (the Multiboot stand-in placed where `kiln build` puts the image)
 * run with the Kraftfile's `cmd` and `env`. Also: Ctrl-C (SIGINT) during a
 * foreground run stops the VM cleanly.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT, runKiln, scratchDir } from "../helpers/kiln.js";
import { buildMultibootStandin } from "./guests.js";

/** A copy of the example project's Kraftfile in a scratch dir, so a local build of the example can't leak in. */
function exampleProject(t: import("node:test").TestContext): string {
  const dir = join(scratchDir(t), "helloworld");
  mkdirSync(dir);
  copyFileSync(join(REPO_ROOT, "examples/helloworld/Kraftfile"), join(dir, "Kraftfile"));
  return dir;
}

test("several targets match: the error lists them and names -t", async (t) => {
  const r = await runKiln(["run", exampleProject(t)], { env: { KILN_HOME: scratchDir(t) } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: \S+Kraftfile has 3 matching targets; Kiln needs one/);
  assert.match(r.stderr, /^ {2}helloworld_qemu-x86_64 \(qemu\/x86_64\)$/m);
  assert.match(r.stderr, /hint: choose one with -t NAME/);
});

test("a filter that matches no target names the flags given and lists the targets", async (t) => {
  const r = await runKiln(["run", exampleProject(t), "--plat", "xen"], { env: { KILN_HOME: scratchDir(t) } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: no target of \S+Kraftfile matches --plat xen\n/);
  assert.match(r.stderr, /^ {2}helloworld_fc-x86_64 \(firecracker\/x86_64\)$/m);
});

test("a target that was never built says how to build it", async (t) => {
  const r = await runKiln(["run", exampleProject(t), "--plat", "qemu", "-m", "x86_64"], {
    env: { KILN_HOME: scratchDir(t) },
  });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /error: target helloworld_qemu-x86_64 is not built: \S+\/\.unikraft\/build\/helloworld_qemu-x86_64 does not exist/,
  );
  assert.match(r.stderr, /hint: run: kiln build -t helloworld_qemu-x86_64/);
});

test("a built project target runs with the Kraftfile's cmd and env", async (t) => {
  const dir = scratchDir(t);
  const project = join(dir, "app");
  mkdirSync(join(project, ".unikraft/build"), { recursive: true });
  writeFileSync(
    join(project, "Kraftfile"),
    'spec: v0.6\nname: app\nunikraft: stable\ncmd: ["exit=4", "from-kraftfile"]\nenv:\n  MODE: test\ntargets:\n  - qemu/x86_64\n',
  );
  copyFileSync(buildMultibootStandin(dir), join(project, ".unikraft/build/app_qemu-x86_64"));
  const r = await runKiln(["run", "-W", project], { env: { KILN_HOME: dir } });
  assert.match(r.stdout, /cmdline: \S+app_qemu-x86_64 env\.vars=\[ "MODE=test" \] -- exit=4 from-kraftfile/);
  assert.equal(r.code, 4, r.stderr);
});

test("a spec v0.5 target's own command replaces the project's cmd", async (t) => {
  const dir = scratchDir(t);
  const project = join(dir, "app");
  mkdirSync(join(project, ".unikraft/build"), { recursive: true });
  writeFileSync(
    join(project, "Kraftfile"),
    'specification: "0.5"\nname: app\nunikraft: stable\ntargets:\n  - architecture: x86_64\n    platform: qemu\n    command: ["exit=5", "per-target"]\n',
  );
  copyFileSync(buildMultibootStandin(dir), join(project, ".unikraft/build/app_qemu-x86_64"));
  const r = await runKiln(["run", "-W", project], { env: { KILN_HOME: dir } });
  assert.match(r.stdout, /cmdline: \S+app_qemu-x86_64 (-- )?exit=5 per-target$/m);
  assert.equal(r.code, 5, r.stderr);
});

for (const [signal, exitCode, reason] of [
  ["SIGINT", 130, "stopped by Ctrl-C"],
  ["SIGTERM", 143, "stopped by SIGTERM"],
] as const) {
  test(`${signal} during a foreground run stops the VM and exits ${exitCode}; ps says "${reason}"`, async (t) => {
    const dir = scratchDir(t);
    const kernel = buildMultibootStandin(dir);
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(REPO_ROOT, "src/cli/main.ts"), "run", "-W", "-n", "sig", kernel, "-a", "hang"],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, KILN_HOME: dir, NO_COLOR: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    t.after(() => child.kill("SIGKILL"));
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("still-waiting")) child.kill(signal);
    });
    const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    assert.equal(code, exitCode);
    const [m] = JSON.parse((await runKiln(["ps", "-a", "--json"], { env: { KILN_HOME: dir } })).stdout) as {
      state: string;
      reason: string;
      pid: number;
      exitCode: number;
    }[];
    assert.deepEqual([m?.state, m?.exitCode, m?.reason], ["exited", exitCode, reason]);
    assert.equal(existsSync(`/proc/${m?.pid}`), false, "QEMU is still running");
  });
}
