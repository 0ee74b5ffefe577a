/**
 * The JSON contract, for every command: with --json, stdout is exactly one
 * JSON document, success or failure; a failure is {ok: false, error: {code,
 * message, hint}}. Success documents carry the keys docs/cli.md's table
 * ("Output: JSON, quiet and verbose") documents — the table is read here, so
 * the docs and the behaviour cannot drift apart. Machine documents on
 * success (run -d, stop, start, …) are checked where a machine runs
 * (test/e2e/docker-verbs.test.ts); here each command's failure document is.
 */
import assert from "node:assert/strict";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { COMMANDS } from "../src/cli/commands/index.js";
import { REPO_ROOT, runKiln, scratchDir } from "./helpers/kiln.js";

/** docs/cli.md's table: command spelling → documented keys. */
function documentedKeys(): Map<string, string[]> {
  const readme = readFileSync(join(REPO_ROOT, "docs/cli.md"), "utf8");
  const start = readme.indexOf("| command | document on success | keys |");
  assert.ok(start >= 0, "docs/cli.md has the JSON table");
  const rows = readme.slice(start).split("\n\n")[0]!.split("\n").slice(2);
  const map = new Map<string, string[]>();
  for (const row of rows) {
    const [names, , keys] = row
      .split("|")
      .slice(1, 4)
      .map((c) => c.trim());
    const ticked = (c: string) => [...c.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    for (const n of ticked(names!)) map.set(n.replace(/ -d$/, ""), ticked(keys!));
  }
  return map;
}

/** Exactly one JSON document on stdout. */
function oneDocument(stdout: string, what: string): unknown {
  try {
    return JSON.parse(stdout);
  } catch (e) {
    assert.fail(`${what}: stdout is not one JSON document (${(e as Error).message}):\n${stdout}`);
  }
}

function assertFailure(stdout: string, what: string, code?: string): void {
  const doc = oneDocument(stdout, what) as {
    ok: boolean;
    error: { code: string; message: string; hint: unknown };
  };
  assert.equal(doc.ok, false, what);
  assert.equal(typeof doc.error.code, "string", what);
  assert.equal(typeof doc.error.message, "string", what);
  assert.ok(doc.error.hint === null || typeof doc.error.hint === "string", what);
  if (code) assert.equal(doc.error.code, code, `${what}: ${doc.error.message}`);
}

const spellings = COMMANDS.flatMap((c) => [c.name, ...(c.aliases ?? [])].map((n) => n.join(" ")));
const IMPLIED = new Set(COMMANDS.filter((c) => c.impliedArgs).map((c) => c.name.join(" ")));

test("every command is in the docs/cli.md's JSON table, and every row names a command", () => {
  const documented = documentedKeys();
  for (const s of spellings) {
    // completion prints a shell script (its --json is {ok, shell, script}); attach and the menu are interactive.
    if (["completion", "attach", "config menu", "menu", "menuconfig"].includes(s)) continue;
    assert.ok(documented.has(s) || IMPLIED.has(s), `docs/cli.md's JSON table lacks kiln ${s}`);
  }
  for (const d of documented.keys())
    assert.ok(spellings.includes(d) || IMPLIED.has(d), `docs/cli.md documents unknown kiln ${d}`);
});

test("every command: a usage error is one failure document on stdout", { timeout: 300_000 }, async (t) => {
  const home = scratchDir(t);
  for (const s of spellings) {
    const r = await runKiln([...s.split(" "), "--json", "--no-such-flag"], { env: { KILN_HOME: home } });
    assert.equal(r.code, 2, `kiln ${s}: ${r.stderr}`);
    assertFailure(r.stdout, `kiln ${s}`, "USAGE");
    assert.match(r.stderr, /error: unknown option --no-such-flag/);
  }
  const unknown = await runKiln(["biuld", "--json"], { env: { KILN_HOME: home } });
  assertFailure(unknown.stdout, "kiln biuld", "USAGE");
  assert.match(unknown.stderr, /did you mean "kiln build"/);
  const fg = await runKiln(["run", "--json", "/boot/vmlinuz"], { env: { KILN_HOME: home } });
  assertFailure(fg.stdout, "kiln run --json", "USAGE");
  assert.match(fg.stderr, /--json needs -d/);
});

test("every command: its own failure is one failure document, naming the code", {
  timeout: 300_000,
}, async (t) => {
  const home = scratchDir(t);
  const env = { KILN_HOME: home };
  const missingDir = join(home, "no-such-project");
  const cases: [string[], string][] = [
    ...["logs", "stop", "start", "restart", "kill", "wait", "rm", "remove"].map((c): [string[], string] => [
      [c, "no_such_machine"],
      "MACHINE_NOT_FOUND",
    ]),
    ...["validate", "fetch", "prepare", "build", "clean", "properclean"].map((c): [string[], string] => [
      [c, missingDir],
      "KRAFTFILE_NOT_FOUND",
    ]),
    [["inspect", "no_such_machine"], "KRAFTFILE_NOT_FOUND"],
    [["run", "-d", join(home, "no-kernel")], "KERNEL_NOT_FOUND"],
    [["rootfs", "ls", join(home, "none.cpio")], ""],
    [["rootfs", "build", join(home, "none"), "-o", join(home, "x.cpio")], ""],
  ];
  for (const [args, code] of cases) {
    const r = await runKiln([...args, "--json"], { env });
    assert.notEqual(r.code, 0, `kiln ${args.join(" ")}`);
    assertFailure(r.stdout, `kiln ${args[0]}`, code || undefined);
  }
});

test("success documents carry the documented keys", { timeout: 300_000 }, async (t) => {
  const dir = scratchDir(t);
  const env = { KILN_HOME: join(dir, "home") };
  const keys = documentedKeys();
  const check = async (args: string[], name: string) => {
    const r = await runKiln([...args, "--json"], { env });
    assert.equal(r.code, 0, `kiln ${args.join(" ")}: ${r.stderr}`);
    const doc = oneDocument(r.stdout, name);
    const first = Array.isArray(doc) ? doc[0] : doc;
    if (Array.isArray(doc) && doc.length === 0) return doc;
    for (const k of keys.get(name)!) assert.ok(k in (first as object), `kiln ${name} --json lacks "${k}"`);
    return doc;
  };
  const app = join(dir, "app");
  cpSync(join(REPO_ROOT, "examples/helloworld"), app, { recursive: true });
  await check(["validate", app], "validate");
  await check(["inspect", app], "inspect");
  await check(["clean", app], "clean");
  await check(["properclean", app], "properclean");
  await check(["version"], "version");
  const doctor = (await check(["doctor"], "doctor")) as { ok: boolean };
  assert.equal(doctor.ok, true);
  assert.deepEqual(await check(["ps", "-a"], "ps"), []);
  assert.deepEqual(await check(["prune"], "prune"), { ok: true, removed: [] });
  mkdirSync(join(dir, "tree/etc"), { recursive: true });
  writeFileSync(join(dir, "tree/etc/hostname"), "kiln\n");
  await check(["rootfs", "build", join(dir, "tree"), "-o", join(dir, "t.cpio")], "rootfs build");
  await check(["rootfs", "ls", join(dir, "t.cpio")], "rootfs ls");
});
