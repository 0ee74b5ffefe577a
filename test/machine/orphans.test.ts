/**
 * Issue 9 item 13: a machine whose directory (or just `state.json`) was
 * removed by hand leaves its QEMU running. `ps -a` shows it as orphaned and
 * `rm -f` ends it. Real QEMU (TCG) with the Multiboot stand-in.
 */
import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { noQemu } from "../helpers/guests.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { qemuPidsUnder, waitForLog } from "../helpers/machines.js";
import { buildMultibootStandin } from "./guests.js";

test("an orphaned QEMU (record removed by hand) is listed by ps -a and ended by rm -f", {
  skip: noQemu(),
}, async (t) => {
  const home = scratchDir(t);
  const env = { KILN_HOME: home };
  const kernel = buildMultibootStandin(home);
  for (const what of ["directory", "state.json"] as const) {
    const name = what === "directory" ? "lost-dir" : "lost-state";
    const r = await runKiln(["run", "-W", "-d", "-n", name, kernel, "-a", "hang"], { env });
    assert.equal(r.code, 0, r.stderr);
    await waitForLog(home, name, /still-waiting/);
    const dir = join(home, "state/machines", name);
    rmSync(what === "directory" ? dir : join(dir, "state.json"), { recursive: true, force: true });
    const [pid] = qemuPidsUnder(home);
    const ps = await runKiln(["ps", "-a"], { env });
    assert.match(
      ps.stdout,
      new RegExp(
        `^${name} +standin_qemu-x86_64 +orphaned \\(pid ${pid}, no record; kiln rm -f ${name} ends it\\)`,
        "m",
      ),
    );
    const json = JSON.parse((await runKiln(["ps", "-a", "--json"], { env })).stdout);
    assert.deepEqual(json, [{ name, pid, state: "orphaned", kernel }]);
    // Without -f it is still not a machine Kiln knows.
    const plain = await runKiln(["rm", name], { env });
    assert.equal(plain.code, 1);
    assert.match(plain.stderr, new RegExp(`no machine named "${name}"`));
    const rm = await runKiln(["rm", "-f", name], { env });
    assert.equal(rm.code, 0, rm.stderr);
    assert.deepEqual(qemuPidsUnder(home), []);
    assert.ok(!existsSync(dir));
    assert.deepEqual(JSON.parse((await runKiln(["ps", "-a", "--json"], { env })).stdout), []);
  }
});
