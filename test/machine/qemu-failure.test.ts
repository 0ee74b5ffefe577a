/**
 * A QEMU that refuses to start (here `--cpus 1000`: "Invalid SMP CPUs 1000",
 * above the PC machine's 255) is explained with QEMU's own message, in the
 * foreground (whether QEMU fails before or just after Kiln sees it running)
 * and for a detached run in `kiln ps -a`; never a stack trace, no QEMU left.
 * Real QEMU; fast, since QEMU fails at once.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { debianKernel } from "../helpers/guests.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { buildMultibootStandin } from "./guests.js";

const QEMU_SAID = /Invalid SMP CPUs 1000\. The max CPUs supported by machine '[^']+' is \d+/;

interface PsRow {
  name: string;
  state: string;
  exitCode: number;
  reason: string;
}

async function assertExplained(t: import("node:test").TestContext, kernel: string, home: string) {
  const env = { KILN_HOME: home };
  const started = Date.now();
  const fg = await runKiln(["run", "-n", "fg", "-W", "--network", "none", "--cpus", "1000", kernel], { env });
  t.diagnostic(`foreground failure took ${Date.now() - started} ms (including tsx start-up)`);
  assert.equal(fg.code, 1, fg.stderr);
  assert.match(fg.stderr, QEMU_SAID);
  assert.doesNotMatch(fg.stderr, /internal error|\n\s+at /);
  // QEMU's status 1 is its error here, not a guest writing 0 to isa-debug-exit.
  assert.doesNotMatch(fg.stderr, /wrote 0 to isa-debug-exit/);
  const bg = await runKiln(["run", "-d", "-n", "bg", "-W", "--network", "none", "--cpus", "1000", kernel], {
    env,
  });
  assert.doesNotMatch(bg.stderr, /internal error|\n\s+at /);
  const ps = await runKiln(["ps", "-a", "--json"], { env });
  const rows = JSON.parse(ps.stdout) as PsRow[];
  assert.deepEqual(
    rows.map((r) => [r.name, r.state, r.exitCode]),
    [
      ["fg", "exited", 1],
      ["bg", "exited", 1],
    ],
  );
  for (const r of rows) assert.match(r.reason, QEMU_SAID);
}

test("QEMU's own error reaches the user: Linux guest", async (t) => {
  const { kernel, skip } = debianKernel();
  if (!kernel) return t.skip(skip);
  await assertExplained(t, kernel, scratchDir(t));
});

test("QEMU's own error reaches the user: Unikraft (Multiboot) guest", async (t) => {
  const dir = scratchDir(t);
  await assertExplained(t, buildMultibootStandin(dir), dir);
});

test("a guest that ends before Kiln sees QEMU's pidfile ran: its exit is reported, not 'QEMU did not start'", async (t) => {
  const dir = scratchDir(t);
  const kernel = buildMultibootStandin(dir);
  // A loaded machine can starve Kiln until QEMU has come and gone (removing its pidfile and QMP
  // socket). The same, every time: real QEMU through a wrapper that drops -pidfile.
  const bin = join(dir, "bin");
  mkdirSync(bin);
  const real = execFileSync("sh", ["-c", "command -v qemu-system-x86_64"], { encoding: "utf8" }).trim();
  writeFileSync(
    join(bin, "qemu-system-x86_64"),
    `#!/bin/sh\nfor a; do shift; if [ "$skip" ]; then skip=; continue; fi; [ "$a" = -pidfile ] && { skip=1; continue; }; set -- "$@" "$a"; done\nexec ${real} "$@"\n`,
    { mode: 0o755 },
  );
  const env = { KILN_HOME: join(dir, "home"), PATH: `${bin}:${process.env.PATH}` };
  const r = await runKiln(["run", "-W", "-n", "fast", kernel, "-a", "exit=5"], { env });
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stdout, /KILN-MULTIBOOT-OK/);
  assert.doesNotMatch(r.stderr, /did not start/);
  const ps = JSON.parse((await runKiln(["ps", "-a", "--json"], { env })).stdout) as PsRow[];
  assert.deepEqual(
    ps.map((m) => [m.name, m.state, m.exitCode]),
    [["fast", "exited", 5]],
  );
});
