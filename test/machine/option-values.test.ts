/**
 * Issue 9, "Smaller": option values are checked against what they mean and
 * refused with the value seen, before anything starts; `rootfs ls` escapes
 * hostile entry names; an over-long store path is named, not left to QEMU.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
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

test("a store path too long for a Unix socket still runs: QEMU binds its QMP socket relatively, kiln stop reaches it", async (t) => {
  const dir = scratchDir(t);
  const kernel = buildMultibootStandin(dir);
  // the machine directory alone passes sun_path's 107 bytes
  const home = join(dir, "h".repeat(100));
  mkdirSync(home);
  const env = { KILN_HOME: home };
  const r = await runKiln(["run", "-W", "-d", "-n", "m", kernel, "--", "hang"], { env });
  t.after(() => runKiln(["rm", "-f", "m"], { env }));
  assert.equal(r.code, 0, r.stderr);
  const { record } = JSON.parse((await runKiln(["inspect", "m", "--json"], { env })).stdout) as {
    record: { argv: string[] };
  };
  const qmpArg = record.argv[record.argv.indexOf("-qmp") + 1];
  assert.equal(qmpArg, "unix:qmp.sock,server=on,wait=off", JSON.stringify(record.argv));
  const stop = await runKiln(["stop", "m"], { env });
  assert.equal(stop.code, 0, stop.stderr);
  // stop reached QEMU over QMP (QEMU traces QMP's quit as a shutdown request), not by SIGKILL
  const events = readFileSync(join(home, "state/machines/m/vmm-events.log"), "utf8");
  assert.match(events, /qemu_system_shutdown_request/);
  const ps = JSON.parse((await runKiln(["ps", "-a", "--json"], { env })).stdout) as {
    name: string;
    state: string;
  }[];
  assert.deepEqual(
    ps.map((m) => [m.name, m.state]),
    [["m", "exited"]],
  );
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
