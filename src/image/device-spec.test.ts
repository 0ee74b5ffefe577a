import assert from "node:assert/strict";
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { isKilnError } from "../core/errors.js";
import { parseDeviceSpec } from "./cpio/spec.js";
import { applyDeviceSpec } from "./device-spec.js";
import { emptyTree } from "./tree.js";

function staged(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), "kiln-devspec-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "etc"));
  writeFileSync(join(dir, "etc/old"), "x");
  symlinkSync("/etc", join(dir, "link"));
  return emptyTree(dir);
}

test("device lines become specials (replacing a file), d lines create parents and set owners", async (t) => {
  const tree = staged(t);
  const spec = parseDeviceSpec(
    "/etc/old c 5 1 0600 0 5\n/a/b/fifo p - - 0640 0 0\n/a d - - 0750 1 2\n",
    "s.txt",
  );
  await applyDeviceSpec(tree, spec, 42);
  assert.deepEqual(tree.specials.get("etc/old"), {
    path: "etc/old",
    type: "char",
    mode: 0o600,
    uid: 0,
    gid: 5,
    major: 5,
    minor: 1,
    mtimeSec: 42,
  });
  assert.equal(lstatSync(join(tree.dir, "etc/old"), { throwIfNoEntry: false }), undefined);
  assert.equal(tree.specials.get("a/b/fifo")?.type, "fifo");
  assert.ok(lstatSync(join(tree.dir, "a/b")).isDirectory());
  assert.deepEqual(tree.owners.get("a"), { uid: 1, gid: 2 });
  assert.equal(lstatSync(join(tree.dir, "a")).mode & 0o7777, 0o750);
});

test("a device over a directory, a path through a symlink, an f line on a directory: errors at the line", async (t) => {
  for (const [line, why] of [
    ["/etc c 1 3 0666 0 0", /would replace a directory/],
    ["/link/x c 1 3 0666 0 0", /through the symlink \/link/],
    ["/etc f - - 0644 0 0", /"f" line names etc, which is not a file/],
  ] as const) {
    const tree = staged(t);
    await assert.rejects(applyDeviceSpec(tree, parseDeviceSpec(`\n${line}\n`, "s.txt"), 0), (e) => {
      assert.ok(isKilnError(e, "CPIO_SPEC_INVALID"));
      assert.match(e.message, why);
      assert.deepEqual(e.location, { file: "s.txt", line: 2, col: 1 });
      assert.ok(e.hint);
      return true;
    });
  }
});
