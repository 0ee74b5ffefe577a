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
import { formatArgv, which } from "../../src/core/exec.js";
import { KILN_FROM_SOURCE, REPO_ROOT, runKiln, scratchDir } from "../helpers/kiln.js";
import { buildMultibootStandin } from "./guests.js";

const noScript = which("script") ? undefined : "util-linux `script` missing (apt-get install bsdutils)";

/** A copy of the example project's Kraftfile in a scratch dir, so a local build of the example can't leak in. */
function exampleProject(t: import("node:test").TestContext): string {
  const dir = join(scratchDir(t), "helloworld");
  mkdirSync(dir);
  copyFileSync(join(REPO_ROOT, "examples/helloworld/Kraftfile"), join(dir, "Kraftfile"));
  return dir;
}

test("several targets match and none is built: the error lists them and says to build", async (t) => {
  const r = await runKiln(["run", exampleProject(t)], { env: { KILN_HOME: scratchDir(t) } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: none of the 3 targets of \S+Kraftfile that match is built/);
  assert.match(r.stderr, /^ {2}helloworld_qemu-x86_64 \(qemu\/x86_64\)$/m);
  assert.match(r.stderr, /hint: build one first: kiln build/);
});

test("the tutorial's form: in the project directory, with one of its three targets built, kiln run runs that one", async (t) => {
  const dir = exampleProject(t);
  mkdirSync(join(dir, ".unikraft/build"), { recursive: true });
  copyFileSync(buildMultibootStandin(scratchDir(t)), join(dir, ".unikraft/build/helloworld_qemu-x86_64"));
  const r = await runKiln(["run", "-W", "--", "exit=3"], { cwd: dir, env: { KILN_HOME: scratchDir(t) } });
  assert.match(r.stdout, /KILN-MULTIBOOT-OK/);
  assert.equal(r.code, 3, r.stderr);
});

/** A project with two qemu/x86_64 targets (as app-sqlite's 9pfs and initrd ones), both built. */
function twoBuiltTargets(t: import("node:test").TestContext): string {
  const dir = join(scratchDir(t), "app");
  mkdirSync(dir);
  writeFileSync(
    join(dir, "Kraftfile"),
    [
      "spec: v0.6",
      "name: app",
      "unikraft: stable",
      "targets:",
      "  - name: first",
      "    platform: qemu",
      "    architecture: x86_64",
      "  - name: second",
      "    platform: qemu",
      "    architecture: x86_64",
      "  - qemu/arm64",
      "",
    ].join("\n"),
  );
  const standin = buildMultibootStandin(scratchDir(t));
  for (const name of ["first", "second"]) {
    mkdirSync(join(dir, ".unikraft/build/targets", name), { recursive: true });
    copyFileSync(standin, join(dir, ".unikraft/build/targets", name, "app_qemu-x86_64"));
  }
  return dir;
}

test("several built targets match, no terminal: the error lists the built ones", async (t) => {
  const r = await runKiln(["run", "-W", twoBuiltTargets(t)], { env: { KILN_HOME: scratchDir(t) } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: \S+Kraftfile has 2 built targets matching; Kiln needs one/);
  assert.match(r.stderr, /built targets:\n {2}first \(qemu\/x86_64\)\n {2}second \(qemu\/x86_64\)\n/);
  assert.doesNotMatch(r.stderr, /app_qemu-arm64/);
});

test("several built targets on a terminal: an unknown answer asks again, Enter runs the first", {
  skip: noScript,
}, async (t) => {
  const dir = twoBuiltTargets(t);
  const kiln = formatArgv([...KILN_FROM_SOURCE, "run", "-W", "--", "exit=6"]);
  const child = spawn("script", ["-qfec", `${kiln}; echo KILN-EXIT=$?`, "/dev/null"], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1", KILN_HOME: scratchDir(t), SHELL: "/bin/bash" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  t.after(() => child.kill("SIGKILL"));
  let out = "";
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString();
  });
  const waitFor = async (re: RegExp) => {
    for (let i = 0; i < 1200 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, re);
  };
  await waitFor(/run which\? \[1-2, Enter: 1\] /);
  assert.match(
    out,
    /app has 2 built targets:\r?\n1\) first \(qemu\/x86_64\)\r?\n2\) second \(qemu\/x86_64\)/,
  );
  child.stdin.write("third\r");
  await waitFor(/"third" is not one of 1-2 or a target name[\s\S]*run which\?/);
  child.stdin.write("\r");
  await waitFor(/KILN-EXIT=\d+/);
  assert.match(out, /cmdline: \S+targets\/first\/app_qemu-x86_64/);
  assert.doesNotMatch(out, /no target ""/);
  assert.match(out, /KILN-EXIT=6/);
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
  assert.match(r.stdout, /cmdline: \S+app_qemu-x86_64 env\.vars=\[ 'MODE=test' \] -- exit=4 from-kraftfile/);
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
