/**
 * The fuzz harness in CI: every kept fixture is replayed, then each target
 * gets a short bounded run (about 1.5 s, fixed seed, so a failure repeats).
 * The long run is `npx tsx fuzz/run.ts SECONDS` (see README "Hardening").
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fixturesOf, fuzzTarget, runOne } from "../fuzz/engine.js";
import { qemuOptionKeys, TARGETS } from "../fuzz/targets.js";

// The YAML library warns about odd directives through Node's warnings: noise here, not failures.
process.removeAllListeners("warning");

test("the QEMU option splitter the argv property uses reads `,,` as a comma", () => {
  assert.deepEqual(qemuOptionKeys("file=a,,b=c,if=none"), ["file", "if"]);
  assert.deepEqual(qemuOptionKeys("local,id=x,path=/v,path=/secret"), ["local", "id", "path", "path"]);
});

for (const target of TARGETS) {
  test(`fuzz ${target.name}: fixtures replay cleanly, then a bounded run finds nothing`, async (t) => {
    for (const input of [...target.seeds.map((s) => Buffer.from(s)), ...fixturesOf(target.name)]) {
      const error = await runOne(target, input);
      assert.equal(
        error,
        undefined,
        `${JSON.stringify(input.toString("latin1"))}: ${(error as Error)?.stack}`,
      );
    }
    const r = await fuzzTarget(target, { durationMs: 1500, seed: 9 });
    t.diagnostic(`${r.runs} inputs in 1.5 s`);
    const first = r.failures[0];
    assert.equal(
      first,
      undefined,
      first && `${JSON.stringify(first.input.toString("latin1"))}: ${(first.error as Error)?.stack}`,
    );
  });
}
