import assert from "node:assert/strict";
import {
  chmodSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { argvWithoutJobs, changedParts, relevantEnv, sealFingerprint } from "./fingerprint.js";
import { filesDigest, treeDigest } from "./tree-state.js";

function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "kiln-fp-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("relevantEnv keeps the variables make and gcc read, sorted, and drops the rest", () => {
  const env = relevantEnv({
    TERM: "xterm",
    PATH: "/usr/bin",
    HOME: "/root",
    V: "1",
    KILN_HOME: "/k",
    CROSS_COMPILE: "",
    UK_CFLAGS: "-O0",
    CONFIG_UK_NAME: "x",
    MAKEFLAGS: "-s",
    L: "/libs",
  });
  assert.deepEqual(Object.entries(env), [
    ["CONFIG_UK_NAME", "x"],
    ["CROSS_COMPILE", ""],
    ["L", "/libs"],
    ["MAKEFLAGS", "-s"],
    ["PATH", "/usr/bin"],
    ["UK_CFLAGS", "-O0"],
  ]);
});

test("argvWithoutJobs drops only the job count", () => {
  assert.deepEqual(argvWithoutJobs(["make", "-C", "/u", "O=/b", "-j8", "-j", "--jobs=3", "all"]), [
    "make",
    "-C",
    "/u",
    "O=/b",
    "all",
  ]);
});

test("sealFingerprint ignores part order; changedParts names what differs, added and removed", () => {
  const a = sealFingerprint({ x: { sha256: "1", entries: 1 }, y: { sha256: "2", entries: 1 } });
  const b = sealFingerprint({ y: { sha256: "2", entries: 1 }, x: { sha256: "1", entries: 1 } });
  assert.equal(a.sha256, b.sha256);
  const c = sealFingerprint({ x: { sha256: "9", entries: 1 }, z: { sha256: "3", entries: 1 } });
  assert.notEqual(a.sha256, c.sha256);
  assert.deepEqual(changedParts(a, c), ["x", "y", "z"]);
  assert.deepEqual(changedParts(a, b), []);
  assert.deepEqual(changedParts(undefined, a), ["no fingerprint of a previous successful build"]);
});

test("treeDigest changes with content, mtime, mode, added and removed entries and link targets", (t) => {
  const root = scratch(t);
  const tree = join(root, "tree");
  mkdirSync(join(tree, "sub"), { recursive: true });
  writeFileSync(join(tree, "a.c"), "int a;\n");
  writeFileSync(join(tree, "sub", "b.c"), "int b;\n");
  symlinkSync("a.c", join(tree, "link"));
  // An old mtime first, so the edit below changes it whatever the timestamp granularity.
  utimesSync(join(tree, "a.c"), new Date(2001, 1, 1), new Date(2001, 1, 1));
  let previous = "";
  const expectChange = (what: string) => {
    const d = treeDigest(tree);
    assert.notEqual(d.sha256, previous, `${what} changes the digest`);
    previous = d.sha256;
    return d;
  };
  const first = expectChange("initial");
  assert.equal(first.entries, 4, "a.c, sub, sub/b.c, link");
  assert.equal(treeDigest(tree).sha256, first.sha256, "the same tree, the same digest");

  writeFileSync(join(tree, "a.c"), "int A;\n");
  expectChange("same-size content edit");
  utimesSync(join(tree, "sub", "b.c"), new Date(2001, 1, 1), new Date(2001, 1, 1));
  expectChange("mtime only");
  chmodSync(join(tree, "a.c"), 0o755);
  expectChange("mode");
  writeFileSync(join(tree, "sub", "new.h"), "");
  expectChange("added file");
  rmSync(join(tree, "sub", "new.h"));
  expectChange("removed file");
  rmSync(join(tree, "link"));
  symlinkSync("sub/b.c", join(tree, "link"));
  expectChange("link target");
});

test("treeDigest skips .git and excluded paths, and follows links to directories outside", (t) => {
  const root = scratch(t);
  const tree = join(root, "tree");
  const outside = join(root, "outside");
  mkdirSync(join(tree, ".git"), { recursive: true });
  mkdirSync(join(tree, "build"), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, "x.c"), "int x;\n");
  symlinkSync(outside, join(tree, "ext"));
  symlinkSync("..", join(tree, "up"), "dir"); // a cycle: ignored, it points inside the walk's ancestors
  const exclude = new Set([join(tree, "build")]);
  const before = treeDigest(tree, { exclude }).sha256;
  writeFileSync(join(tree, ".git", "index"), "changed by git status");
  writeFileSync(join(tree, "build", "obj.o"), "made by make");
  assert.equal(treeDigest(tree, { exclude }).sha256, before, ".git and excluded paths do not count");
  writeFileSync(join(outside, "x.c"), "int y;\n");
  assert.notEqual(treeDigest(tree, { exclude }).sha256, before, "a file behind a directory link counts");
});

test("filesDigest counts absent files as absent; for outputs a hard link does not count", (t) => {
  const root = scratch(t);
  const f = join(root, "image");
  const absent = filesDigest([f], { outputs: true });
  writeFileSync(f, "ELF");
  const present = filesDigest([f], { outputs: true });
  assert.notEqual(present.sha256, absent.sha256);
  assert.equal(present.entries, 1);
  // Kiln publishes the image as a hard link, which changes its link count and ctime.
  linkSync(f, join(root, "published"));
  assert.equal(filesDigest([f], { outputs: true }).sha256, present.sha256);
});

test("files changed within the racy window are collected, older ones are not", (t) => {
  const root = scratch(t);
  mkdirSync(join(root, "tree"));
  const old = join(root, "tree", "old.c");
  const fresh = join(root, "tree", "fresh.c");
  writeFileSync(old, "");
  writeFileSync(fresh, "");
  utimesSync(old, new Date(2001, 1, 1), new Date(2001, 1, 1));
  // utimes sets ctime to now, so "now" is placed after the window past both writes.
  const racy: string[] = [];
  treeDigest(join(root, "tree"), { racySinceNs: 0n, racy });
  assert.deepEqual(racy.sort(), [fresh, old].sort(), "everything is racy for a window reaching the epoch");
  const none: string[] = [];
  treeDigest(join(root, "tree"), { racySinceNs: BigInt(Date.now() + 60_000) * 1_000_000n, racy: none });
  assert.deepEqual(none, [], "nothing is racy for a window starting in the future");
});
