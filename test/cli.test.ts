/** The CLI shell: version, help, usage errors and exit codes (README "Exit codes"). */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT, runKiln } from "./helpers/kiln.js";

test("--version prints package.json's version", async () => {
  const { version } = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
    version: string;
  };
  const r = await runKiln(["--version"]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `kiln ${version}\n`);
});

test("--help lists every command; no arguments is a usage error with the same help", async () => {
  const help = await runKiln(["--help"]);
  assert.equal(help.code, 0);
  for (const c of [
    "validate",
    "inspect",
    "fetch",
    "build",
    "clean",
    "run",
    "ps",
    "logs",
    "stop",
    "rm",
    "rootfs build",
    "rootfs ls",
  ]) {
    assert.match(help.stdout, new RegExp(`^  ${c} `, "m"), c);
  }
  const bare = await runKiln([]);
  assert.equal(bare.code, 2);
  assert.equal(bare.stdout, help.stdout);
});

test("an unknown command exits 2 and suggests the nearest one", async () => {
  const r = await runKiln(["buidl"]);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    'error: unknown command "buidl"\nhint: did you mean "kiln build"? See: kiln --help\n',
  );
});

test("bad options exit 2 with a one-line error and the command's help pointer, never a stack trace", async () => {
  const unknown = await runKiln(["run", "--bogus"]);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, "error: unknown option --bogus\nhint: see: kiln run --help\n");
  const missing = await runKiln(["run", "-M"]);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, "error: option -M, --memory needs a value\nhint: see: kiln run --help\n");
  const extra = await runKiln(["validate", "a", "b"]);
  assert.equal(extra.code, 2);
  assert.doesNotMatch(extra.stderr, /\n\s+at /);
});

test("kiln COMMAND --help prints the command's usage and options", async () => {
  const r = await runKiln(["rootfs", "build", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^usage: kiln rootfs build /m);
  assert.match(r.stdout, /^ {2}-o, --output /m);
  assert.match(r.stdout, /^ {2}-h, --help /m);
});
