import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { refreshRacyIndex } from "./git.js";

test("refreshRacyIndex rewrites an index whose entries are racily clean, once they are old enough", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-racy-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, stdio: "pipe" });
  git("init", "-q");
  writeFileSync(join(dir, "a.c"), "int a;\n");
  git("add", "a.c");
  git("-c", "user.name=k", "-c", "user.email=k@k", "commit", "-qm", "a");
  // As right after a checkout: the file is no older than the index.
  const index = join(dir, ".git", "index");
  const fileTime = new Date(Date.now() - 10_000);
  utimesSync(join(dir, "a.c"), fileTime, fileTime);
  utimesSync(index, fileTime, fileTime);
  const newestNs = statSync(join(dir, "a.c"), { bigint: true }).mtimeNs;

  assert.equal(
    await refreshRacyIndex(dir, newestNs, process.env, fileTime.getTime() + 500),
    false,
    "too fresh",
  );
  assert.equal(Math.round(statSync(index).mtimeMs), fileTime.getTime(), "index untouched");
  assert.equal(await refreshRacyIndex(dir, newestNs), true);
  assert.ok(
    Math.floor(statSync(index).mtimeMs / 1000) > Math.floor(fileTime.getTime() / 1000),
    "the index is now newer than the file, by whole seconds",
  );
  assert.equal(await refreshRacyIndex(dir, newestNs), false, "nothing racy any more");
  assert.equal(await refreshRacyIndex(join(dir, "no-repo"), newestNs), false);
});
