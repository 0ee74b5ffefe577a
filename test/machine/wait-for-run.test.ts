/**
 * Issue 9 items 4 and 11: `--wait-for` on real QEMU (TCG) with the Multiboot
 * stand-in. A guest that exits without the console matching is a failure
 * (as `expect` fails on end of file), and a pattern that backtracks
 * exponentially in JavaScript cannot freeze Kiln: `--timeout` still fires
 * and no QEMU is left behind.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { noQemu } from "../helpers/guests.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { qemuPidsUnder } from "../helpers/machines.js";
import { buildMultibootStandin } from "./guests.js";

test("--wait-for fails when the guest exits without a match, showing the console's last lines", {
  skip: noQemu(),
}, async (t) => {
  const dir = scratchDir(t);
  const env = { KILN_HOME: dir };
  const kernel = buildMultibootStandin(dir);
  const r = await runKiln(["run", "-W", "-n", "w", kernel, "-a", "poweroff", "--wait-for", "NEVER-PRINTED"], {
    env,
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^error: machine w .*\(exit 0\) without its console matching \/NEVER-PRINTED\/m$/m);
  assert.match(r.stderr, /^ {2}\| .*KILN-MULTIBOOT-OK$/m);
  assert.match(r.stderr, /^hint: look at the whole log with: kiln logs w$/m);
  // The same run with a pattern that appears: success.
  const ok = await runKiln(["run", "-W", "--rm", kernel, "-a", "poweroff", "--wait-for", "MULTIBOOT-OK$"], {
    env,
  });
  assert.equal(ok.code, 0, ok.stderr);
});

test("a catastrophically backtracking --wait-for cannot freeze Kiln: --timeout fires, the VM is stopped", {
  skip: noQemu(),
}, async (t) => {
  const dir = scratchDir(t);
  const env = { KILN_HOME: dir };
  const kernel = buildMultibootStandin(dir);
  const started = Date.now();
  // The stand-in prints its command line (46 `a`s, no `b`) and waits for ever.
  const r = await runKiln(
    [
      "run",
      "-W",
      "--rm",
      kernel,
      "-a",
      "hang",
      "--wait-for",
      "(a+)+b$",
      "--timeout",
      "8",
      "--",
      "a".repeat(46),
    ],
    { env, timeoutMs: 90_000 },
  );
  t.diagnostic(`run took ${Date.now() - started} ms`);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /ran for 8 s without its console matching \/\(a\+\)\+b\$\/m \(--timeout\)/);
  assert.match(r.stderr, /\| cmdline: .* a{46}$/m);
  assert.deepEqual(qemuPidsUnder(dir), []);
});

test("--wait-for syntax RE2 cannot match in linear time (a backreference) is a usage error", async (t) => {
  const dir = scratchDir(t);
  const kernel = buildMultibootStandin(dir);
  const r = await runKiln(["run", "-W", kernel, "--wait-for", "(a)\\1"], { env: { KILN_HOME: dir } });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^error: --wait-for "\(a\)\\1" is not a regular expression Kiln accepts/m);
  assert.match(r.stderr, /^hint: .*RE2 syntax/m);
});
