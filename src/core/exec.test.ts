import assert from "node:assert/strict";
import { test } from "node:test";
import { isKilnError } from "./errors.js";
import { exec, formatArgv } from "./exec.js";

test("exec captures stdout", async () => {
  const r = await exec(["sh", "-c", "echo hello"]);
  assert.equal(r.stdout, "hello\n");
  assert.equal(r.exitCode, 0);
});

test("a failing command reports argv, exit code and stderr tail", async () => {
  await assert.rejects(exec(["sh", "-c", "echo one >&2; echo two >&2; exit 3"]), (e) => {
    assert.ok(isKilnError(e, "EXEC_FAILED"));
    assert.equal(e.message, "sh exited with code 3");
    assert.match(e.details[0]!, /^command: sh -c 'echo one/);
    assert.deepEqual(e.details.slice(1), ["  | one", "  | two"]);
    return true;
  });
});

test("a missing program is TOOL_MISSING with an install hint", async () => {
  await assert.rejects(exec(["mkfs.nonexistent-kiln"]), (e) => isKilnError(e, "TOOL_MISSING"));
});

test("formatArgv quotes what a shell would split", () => {
  assert.equal(
    formatArgv(["qemu", "-append", "console=ttyS0 quiet", "it's"]),
    "qemu -append 'console=ttyS0 quiet' 'it'\\''s'",
  );
});
