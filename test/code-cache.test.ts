/**
 * The V8 code cache of the CommonJS CLI bundle (src/cli/code-cache.ts), on
 * small bundles written here and run in real Node processes: a second run
 * uses the cache and prints the same; a rebuilt bundle (same size, same
 * mtime, same inode, new hash line) never runs the old code; a cache that is
 * garbage is rejected and rewritten; a cache directory Kiln cannot create
 * costs nothing but the cache; `__kilnImport` loads the bundle's ES modules.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { commandKey } from "../src/cli/code-cache.js";
import { REPO_ROOT, scratchDir, TSX_LOADER } from "./helpers/kiln.js";

const MODULE = pathToFileURL(join(REPO_ROOT, "src/cli/code-cache.ts")).href;

/** A bundle as scripts/bundle.mjs writes it: the hash line, then CommonJS. */
function writeBundle(file: string, body: string): void {
  const sha = createHash("sha256").update(body).digest("hex");
  writeFileSync(file, `// kiln-bundle ${sha}\n${body}`);
}

/** Run `bundle` through runWithCodeCache in a fresh Node; stdout and the outcome. */
function run(bundle: string, cacheDir: string, command = "run") {
  const script = `
    const { runWithCodeCache } = await import(${JSON.stringify(MODULE)});
    const outcome = runWithCodeCache({ bundle: ${JSON.stringify(bundle)}, cacheDir: ${JSON.stringify(cacheDir)},
      command: ${JSON.stringify(command)}, importEsm: (s) => import(s) });
    process.on("exit", () => process.stderr.write("OUTCOME " + outcome + "\\n"));`;
  const r = spawnSync(process.execPath, ["--import", TSX_LOADER, "--input-type=module", "-e", script], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  return { out: r.stdout, outcome: /OUTCOME (\w+)/.exec(r.stderr)?.[1], stderr: r.stderr };
}

// Enough functions that V8's cache carries real bytecode, and output that shows which code ran.
const body = (version: string) =>
  `${Array.from({ length: 50 }, (_, i) => `function f${i}(x) { return x + ${i}; }`).join("\n")}
let sum = 0; for (const f of [${Array.from({ length: 50 }, (_, i) => `f${i}`).join(", ")}]) sum = f(sum);
console.log("${version}", sum, typeof require, typeof module.exports, __filename.endsWith("kiln.cjs"));
`;

test("a second run uses the cache and runs the same code; a rebuilt bundle of the same size, mtime and inode does not", (t) => {
  const dir = scratchDir(t);
  const bundle = join(dir, "kiln.cjs");
  const cache = join(dir, "cache", "code-cache");
  writeBundle(bundle, body("v1"));
  // A whole-second mtime, so that writing it again below restores it exactly (a Date from
  // statSync is rounded to the millisecond, which could move the mtime the cache name holds).
  const mtimeSec = 1_700_000_000;
  utimesSync(bundle, mtimeSec, mtimeSec);
  const first = run(bundle, cache);
  assert.equal(first.outcome, "absent");
  assert.equal(first.out, "v1 1225 function object true\n");
  const files = readdirSync(cache);
  assert.equal(files.length, 1);
  assert.match(files[0]!, /-v\d+\.\d+\.\d+-\w+-run\.v8$/);
  const second = run(bundle, cache);
  assert.equal(second.outcome, "used");
  assert.equal(second.out, first.out);

  // The same length, written in place (same inode) and given the old mtime: only the hash line differs.
  const before = statSync(bundle);
  writeBundle(bundle, body("v2"));
  utimesSync(bundle, mtimeSec, mtimeSec);
  const after = statSync(bundle);
  // (The cache's name holds the mtime in whole milliseconds, what utimes keeps.)
  const identity = (s: typeof after) => [s.size, Math.trunc(s.mtimeMs), s.ino];
  assert.deepEqual(identity(after), identity(before));
  const rebuilt = run(bundle, cache);
  assert.equal(rebuilt.outcome, "absent");
  assert.equal(rebuilt.out, "v2 1225 function object true\n");
  // The old bundle's cache is gone with it.
  assert.equal(readdirSync(cache).length, 1);
  assert.equal(run(bundle, cache).outcome, "used");
});

test("a garbage cache file is rejected and rewritten; each command has its own", (t) => {
  const dir = scratchDir(t);
  const bundle = join(dir, "kiln.cjs");
  const cache = join(dir, "cache");
  writeBundle(bundle, body("v1"));
  run(bundle, cache, "ps");
  const file = join(cache, readdirSync(cache)[0]!);
  writeFileSync(file, Buffer.alloc(4096, 7));
  const bad = run(bundle, cache, "ps");
  assert.equal(bad.outcome, "rejected");
  assert.equal(bad.out, "v1 1225 function object true\n");
  assert.equal(run(bundle, cache, "ps").outcome, "used");
  assert.equal(run(bundle, cache, "run").outcome, "absent");
  assert.equal(run(bundle, cache, "--version").outcome, "absent");
  assert.deepEqual(
    readdirSync(cache)
      .map((f) => f.replace(/.*-/, ""))
      .sort(),
    ["other.v8", "ps.v8", "run.v8"],
  );
});

test("the command key: one or two words, not a file's name, nothing for options", () => {
  const none = () => false;
  assert.equal(commandKey(["pkg", "pull", "127.0.0.1:5000/a:1"], none), "pkg.pull");
  assert.equal(commandKey(["run", "-W", "kernel"], none), "run");
  assert.equal(
    commandKey(["run", "hello"], (p) => p === "hello"),
    "run",
  );
  assert.equal(commandKey(["--version"], none), undefined);
  assert.equal(commandKey([], none), undefined);
});

test("a cache directory that cannot be made only costs the cache", (t) => {
  const dir = scratchDir(t);
  const bundle = join(dir, "kiln.cjs");
  writeBundle(bundle, body("v1"));
  // A regular file where the directory should be (root ignores permission bits, not this).
  writeFileSync(join(dir, "not-a-dir"), "");
  const cache = join(dir, "not-a-dir", "code-cache");
  for (let i = 0; i < 2; i++) {
    const r = run(bundle, cache);
    assert.equal(r.outcome, "absent");
    assert.equal(r.out, "v1 1225 function object true\n");
    assert.doesNotMatch(r.stderr, /Error/);
  }
  // A missing one is made.
  const fresh = join(dir, "a", "b", "c");
  run(bundle, fresh);
  assert.ok(existsSync(fresh));
  assert.equal(run(bundle, fresh).outcome, "used");
});

test("a bundle without its hash line runs without a cache; __kilnImport loads an ES module beside it", (t) => {
  const dir = scratchDir(t);
  const bundle = join(dir, "kiln.cjs");
  writeFileSync(join(dir, "side.mjs"), "export const word = await Promise.resolve('from an ES module');\n");
  writeFileSync(bundle, '__kilnImport("./side.mjs").then((m) => console.log(m.word));\n');
  const cache = join(dir, "cache");
  const r = run(bundle, cache);
  assert.equal(r.outcome, "disabled");
  assert.equal(r.out, "from an ES module\n");
  assert.equal(existsSync(cache), false);
});
