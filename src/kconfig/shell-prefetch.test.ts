import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ShellPrefetch } from "./shell-prefetch.js";

test("prefetched $(shell,…) results equal running each command; more commands than jobs; the scratch directory goes", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-prefetch-test-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const list = join(dir, "list.json");
  // more commands than the job limit (2 × cores), some slow, some with quotes and stderr
  const commands = Array.from({ length: 12 }, (_, i) =>
    i % 3 === 0 ? `sleep 0.0${i % 10}; echo "slow ${i}" 'q'` : `printf '%s\\n' "n ${i}" "$PWD"`,
  );
  writeFileSync(list, JSON.stringify(commands));
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
  const pf = new ShellPrefetch(list, dir, env);
  const scratch = (pf as unknown as { dir: string }).dir;
  assert.ok(existsSync(join(scratch, "run.sh")));
  for (const c of commands) {
    const expected = execFileSync("sh", ["-c", c], { cwd: dir, env, encoding: "utf8" });
    assert.equal(pf.take(c), expected, c);
  }
  assert.equal(pf.take("echo not-prefetched"), undefined);
  pf.finish();
  // the list now holds what this parse asked for, in order
  assert.deepEqual(JSON.parse(readFileSync(list, "utf8")), [...commands, "echo not-prefetched"]);
  assert.ok(!existsSync(scratch), "its scratch directory was removed");
});
