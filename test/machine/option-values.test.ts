/**
 * Issue 9, "Smaller": option values are checked against what they mean and
 * refused with the value seen, before anything starts; `rootfs ls` escapes
 * hostile entry names; an over-long store path is named, not left to QEMU.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { buildMultibootStandin } from "./guests.js";

test("bad -p, -M, --cpus and negative values are usage errors naming the value", async (t) => {
  const dir = scratchDir(t);
  const kernel = buildMultibootStandin(dir);
  const env = { KILN_HOME: dir };
  const cases: [string[], RegExp][] = [
    [
      ["-p", "999.1.1.1:8080:80"],
      /host address "999\.1\.1\.1" in -p 999\.1\.1\.1:8080:80 is not an IPv4 address/,
    ],
    [["-M", "-5"], /option -M got "-5", which starts with "-"/],
    [["--timeout", "-1"], /option --timeout got "-1", which starts with "-"/],
    [["-M", "1".repeat(30)], /-M "1{30}" is more than 16 TiB/],
    [
      ["--cpus", "99999999999999999999"],
      /--cpus must be a whole number from 1 to 4096; got "99999999999999999999"/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = await runKiln(["run", "-W", kernel, ...args], { env });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /ambiguous|internal error/);
  }
  const ps = await runKiln(["ps", "-a", "--json"], { env });
  assert.deepEqual(JSON.parse(ps.stdout), [], "nothing was started");
});

test("a store path too long for a Unix socket is named with a hint", async (t) => {
  const dir = scratchDir(t);
  const kernel = buildMultibootStandin(dir);
  const home = join(dir, "h".repeat(100));
  mkdirSync(home);
  const r = await runKiln(["run", "-W", "-n", "m", kernel], { env: { KILN_HOME: home } });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /^error: the machine's socket path .*\/qmp\.sock is \d+ bytes; Unix sockets allow at most 107$/m,
  );
  assert.match(r.stderr, /^hint: set KILN_HOME \(or XDG_STATE_HOME\) to a shorter directory/m);
});

test("rootfs ls escapes control characters in names, as ls -b does; --json keeps them", async (t) => {
  const dir = scratchDir(t);
  // Names a hostile archive could carry; the host filesystem takes them too.
  const tree = join(dir, "tree");
  mkdirSync(tree);
  for (const n of ["ok", "a\nfake-entry", "\x1b[2Jclear"]) writeFileSync(join(tree, n), "x");
  const cpio = join(dir, "evil.cpio");
  const built = await runKiln(["rootfs", "build", tree, "-o", cpio]);
  assert.equal(built.code, 0, built.stderr);
  const r = await runKiln(["rootfs", "ls", cpio]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.split("\n").slice(0, -1).sort(), ["\\033[2Jclear", "a\\nfake-entry", "ok"]);
  const json = await runKiln(["rootfs", "ls", cpio, "--json"]);
  assert.ok((JSON.parse(json.stdout) as { path: string }[]).some((e) => e.path === "a\nfake-entry"));
});
