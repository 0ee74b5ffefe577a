/**
 * `kiln completion bash|zsh|fish`: the scripts load (`bash -n`, and zsh/fish
 * when installed), and a real bash completes commands, flags, machine names
 * from the store and the current project's target names, by calling the
 * generated `_kiln` function the way bash's programmable completion does.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { which } from "../src/core/exec.js";
import { createInstance } from "../src/machine/store.js";
import { KILN_FROM_SOURCE, REPO_ROOT, runKiln, scratchDir } from "./helpers/kiln.js";
import { machineSpec } from "./helpers/specs.js";

function shellWords(argv: readonly string[]): string {
  return argv.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
}

test("the scripts load in their shells", async (t) => {
  const dir = scratchDir(t);
  for (const shell of ["bash", "zsh", "fish"]) {
    const r = await runKiln(["completion", shell]);
    assert.equal(r.code, 0, r.stderr);
    const file = join(dir, `kiln.${shell}`);
    writeFileSync(file, r.stdout);
    if (!which(shell)) {
      t.diagnostic(`${shell} not installed: its script's syntax is not checked here`);
      continue;
    }
    const n = spawnSync(shell, ["-n", file], { encoding: "utf8" });
    assert.equal(n.status, 0, `${shell} -n: ${n.stderr}`);
  }
  const bad = await runKiln(["completion", "tcsh"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /needs a shell: bash, zsh or fish; got "tcsh"/);
});

test("bash completes commands, flags, machine names and target names", { timeout: 120_000 }, async (t) => {
  const dir = scratchDir(t);
  const home = join(dir, "home");
  const env = { ...process.env, KILN_HOME: home, NO_COLOR: "1" };
  await createInstance(
    machineSpec(),
    { name: "web_one", vmm: "qemu", platform: "qemu", autoRemove: false, detached: true },
    env,
  );
  const script = join(dir, "kiln.bash");
  writeFileSync(script, (await runKiln(["completion", "bash"])).stdout);
  /** What Tab offers after `line` (the last word is the one being completed). */
  const complete = (line: string, cwd = REPO_ROOT) => {
    const words = line.split(" ");
    const program = [
      `kiln() { ${shellWords(KILN_FROM_SOURCE)} "$@"; }`,
      `source ${shellWords([script])}`,
      `COMP_WORDS=(${shellWords(words)}); COMP_CWORD=${words.length - 1}`,
      "_kiln",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's own ${…}, not a template
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join("\n");
    const r = spawnSync("bash", ["-c", program], { cwd, env, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split("\n").filter(Boolean).sort();
  };
  assert.deepEqual(complete("kiln bui"), ["build"]);
  assert.deepEqual(complete("kiln rootfs "), ["build", "ls"]);
  assert.deepEqual(complete("kiln run --disable-a"), ["--disable-acceleration"]);
  assert.deepEqual(complete("kiln ps --fi"), ["--filter"]);
  assert.deepEqual(complete("kiln logs we"), ["web_one"]);
  assert.deepEqual(complete("kiln remove "), ["web_one"]);
  const project = join(REPO_ROOT, "examples/helloworld");
  const targets = JSON.parse((await runKiln(["inspect", project, "--json"])).stdout).targets.map(
    (x: { name: string }) => x.name,
  );
  assert.ok(targets.length > 0);
  assert.deepEqual(complete("kiln build -t ", project), [...targets].sort());
});
