/**
 * Issue 9 item 14: a store Kiln cannot write is reported at once, saying so,
 * instead of after ~18 s of lock retries blaming "another kiln command".
 * Run as `nobody` against a store it may read but not write.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { KILN_FROM_SOURCE, scratchDir } from "../helpers/kiln.js";
import { buildMultibootStandin } from "./guests.js";

test("a read-only machine store is refused at once with the reason (as nobody)", {
  skip: process.getuid?.() === 0 ? false : "switching to nobody needs root",
}, async (t) => {
  const dir = scratchDir(t);
  chmodSync(dir, 0o755);
  const kernel = buildMultibootStandin(dir);
  const home = join(dir, "home");
  const machines = join(home, "state", "machines");
  mkdirSync(machines, { recursive: true });
  for (const d of [home, join(home, "state"), machines]) chownSync(d, 65534, 65534);
  chmodSync(machines, 0o500);
  const run = (args: string[]) => {
    try {
      execFileSync("runuser", ["-u", "nobody", "--", ...KILN_FROM_SOURCE, ...args], {
        cwd: "/",
        env: { ...process.env, NO_COLOR: "1", KILN_HOME: home },
        stdio: ["ignore", "pipe", "pipe"],
      });
      return { code: 0, stderr: "" };
    } catch (e) {
      const err = e as { status: number; stderr: Buffer };
      return { code: err.status, stderr: err.stderr.toString() };
    }
  };
  const started = Date.now();
  const r = run(["run", "-W", kernel, "-a", "exit=3"]);
  t.diagnostic(`refused after ${Date.now() - started} ms`);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /^error: the machine store .*\/machines is not writable \(permission denied, EACCES\)$/m,
  );
  assert.match(r.stderr, /^hint: point KILN_HOME \(or XDG_STATE_HOME\) at a writable directory/m);
  assert.doesNotMatch(r.stderr, /another kiln command/);
  // Reading still works.
  assert.equal(run(["ps", "-a"]).code, 0);
});
