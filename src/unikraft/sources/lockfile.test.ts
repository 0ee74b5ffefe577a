import assert from "node:assert/strict";
import { test } from "node:test";
import { isKilnError } from "../../core/errors.js";
import { findLocked, formatLockFile, type LockFile, parseLockFile } from "./lockfile.js";

const LOCK: LockFile = {
  version: 1,
  components: [
    {
      role: "core",
      name: "unikraft",
      source: { type: "git", url: "https://github.com/unikraft/unikraft", version: "stable" },
      ref: "RELEASE-0.17.0",
      commit: "484ff2097e5ed8aad82d3e5b64d47cc75d6b8d01",
    },
  ],
  archives: [{ lib: "libmusl", file: "musl-1.2.3.tar.gz", url: "https://x/musl-1.2.3.tar.gz", sha256: "ab" }],
};

test("a lock file round-trips through its text", () => {
  const text = formatLockFile(LOCK);
  assert.match(text, /^# kiln\.lock/);
  assert.deepEqual(parseLockFile(text, "kiln.lock"), LOCK);
});

test("an entry applies only while the Kraftfile asks for the same source", () => {
  const src = { type: "git" as const, url: "https://github.com/unikraft/unikraft", version: "stable" };
  assert.equal(findLocked(LOCK, "core", "unikraft", src)?.ref, "RELEASE-0.17.0");
  assert.equal(findLocked(LOCK, "core", "unikraft", { ...src, version: "staging" }), undefined);
  assert.equal(findLocked(LOCK, "library", "unikraft", src), undefined);
});

test("a damaged lock file is an error with a way out", () => {
  assert.throws(
    () => parseLockFile("version: 2\ncomponents: []\n", "/p/kiln.lock"),
    (e) =>
      isKilnError(e, "LOCK_INVALID") && /unsupported version 2/.test(e.message) && /--update/.test(e.hint!),
  );
  assert.throws(
    () => parseLockFile("version: 1\ncomponents:\n  - name: x\n", "/p/kiln.lock"),
    (e) => isKilnError(e, "LOCK_INVALID") && /components\[0\] needs a name and a role/.test(e.message),
  );
});
