/**
 * How much Kiln says: --verbose and KILN_LOG=debug show each external command
 * (a real mkfs.ext4), --quiet leaves only the result; did-you-mean suggests
 * for typos and transpositions, never for unrelated words.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runKiln, scratchDir } from "./helpers/kiln.js";

test("--verbose / KILN_LOG=debug show each external command; --quiet only the result", {
  timeout: 120_000,
}, async (t) => {
  const dir = scratchDir(t);
  mkdirSync(join(dir, "tree/etc"), { recursive: true });
  writeFileSync(join(dir, "tree/etc/hostname"), "kiln\n");
  const build = (out: string, ...extra: string[]) => [
    "rootfs",
    "build",
    join(dir, "tree"),
    "-o",
    join(dir, out),
    ...extra,
  ];
  const verbose = await runKiln(build("v.ext4", "--verbose"));
  assert.equal(verbose.code, 0, verbose.stderr);
  assert.match(verbose.stderr, /^kiln: run \S*mkfs\.ext4 .*-d /m);
  const env = await runKiln(build("e.ext4"), { env: { KILN_LOG: "debug" } });
  assert.match(env.stderr, /^kiln: run \S*mkfs\.ext4 /m);
  const plain = await runKiln(build("p.ext4"));
  assert.doesNotMatch(plain.stderr, /kiln: run /);
  const quiet = await runKiln(build("q.ext4", "--quiet"));
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stderr, "");
  assert.match(quiet.stdout, /q\.ext4: ext4 /);
  const both = await runKiln(build("b.ext4", "--quiet", "--verbose"));
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--quiet and --verbose contradict each other/);
});

test("did-you-mean: transpositions yes, unrelated commands no", async () => {
  const typo = await runKiln(["biuld"]);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /hint: did you mean "kiln build"\?/);
  for (const word of ["login", "deploy"]) {
    const r = await runKiln([word]);
    assert.match(r.stderr, /^error: unknown command/);
    assert.doesNotMatch(r.stderr, /did you mean/, word);
  }
  const flag = await runKiln(["ps", "--fromat", "x"]);
  assert.match(flag.stderr, /did you mean --format\?/);
});
