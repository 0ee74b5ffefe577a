/**
 * Issue 9 item 9: `kiln stop -t 3 X`, `kiln rm X` and `kiln rm -f X` at the
 * same time, on a real QEMU (TCG). Removal is serialised on the record and
 * all-or-nothing: no ENOTEMPTY or lock errors, no empty directory or lone
 * `state.json` left, no QEMU left, and the name is free again afterwards.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { noQemu } from "../helpers/guests.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { qemuPidsUnder, waitForLog } from "../helpers/machines.js";
import { buildMultibootStandin } from "./guests.js";

const NOT_FOUND = /^error: no machine named "x"$/m;

test("concurrent stop, rm and rm -f leave the whole record or nothing", { skip: noQemu() }, async (t) => {
  const dir = scratchDir(t);
  const env = { KILN_HOME: dir };
  const kernel = buildMultibootStandin(dir);
  const started = Date.now();
  for (let trial = 0; trial < 2; trial++) {
    const run = await runKiln(["run", "-W", "-d", "-n", "x", kernel, "-a", "hang"], { env });
    assert.equal(run.code, 0, `trial ${trial}: the name is free again: ${run.stderr}`);
    await waitForLog(dir, "x", /still-waiting/);
    const [stop, rm, rmf] = await Promise.all([
      runKiln(["stop", "-t", "3", "x"], { env }),
      runKiln(["rm", "x"], { env }),
      runKiln(["rm", "-f", "x"], { env }),
    ]);
    for (const r of [stop, rm, rmf]) {
      assert.doesNotMatch(
        r.stderr,
        /ENOTEMPTY|ENOENT|could not lock|internal error/,
        `trial ${trial}: ${r.stderr}`,
      );
    }
    assert.ok(stop.code === 0 || NOT_FOUND.test(stop.stderr), `stop: ${stop.stderr}`);
    assert.ok(rmf.code === 0 || NOT_FOUND.test(rmf.stderr), `rm -f: ${rmf.stderr}`);
    assert.ok(
      rm.code === 0 ||
        NOT_FOUND.test(rm.stderr) ||
        /^error: machine "x" is (running|starting)$/m.test(rm.stderr),
      `rm: ${rm.stderr}`,
    );
    assert.deepEqual(
      readdirSync(join(dir, "state/machines")).filter((n) => n !== "lock"),
      [],
      `trial ${trial}`,
    );
    assert.deepEqual(qemuPidsUnder(dir), []);
    const ps = await runKiln(["ps", "-a", "--json"], { env });
    assert.deepEqual(JSON.parse(ps.stdout), []);
  }
  t.diagnostic(`2 trials took ${Date.now() - started} ms`);
});
