/**
 * The tutorial's other app-sqlite targets against the real upstream trees:
 * the 9pfs target (its root is the host's `rootfs/` shared over 9p, mounted
 * by the image itself from the tag `fs1` its configuration names) run with
 * `-v ./rootfs:/`, and the arm64 initrd target cross-built and run on
 * `qemu-system-aarch64`; each answers an SQL query typed on its console.
 * Building both x86_64 targets also exercises sharing their identical build
 * files (src/unikraft/share.ts) on the real objects, and prints what it saved.
 *
 * Opt-in: KILN_TEST_UNIKRAFT_SQLITE_MIRROR, the mirror described in
 * unikraft-sqlite-tutorial.test.ts (README: "Stocking a mirror"); the arm64
 * part needs `aarch64-linux-gnu-gcc` (gcc-aarch64-linux-gnu) and
 * `qemu-system-aarch64`. Slow: three musl + sqlite builds (6 to 17 minutes
 * each on 2 cores).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { which } from "../../src/core/exec.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";

const MIRROR = process.env.KILN_TEST_UNIKRAFT_SQLITE_MIRROR;
const skip = MIRROR
  ? false
  : "KILN_TEST_UNIKRAFT_SQLITE_MIRROR is unset (a mirror with unikraft.git, lib-musl.git, lib-sqlite.git, app-sqlite.git and archives/)";
// A sum, then a count from the tutorial's rootfs/chinook.db, which only the root filesystem holds.
const QUERY = "select 1500 + 2003;\n.open /chinook.db\nselect count(*) from Album;\n.exit\n";
// `.open` prints nothing, so the count follows the prompt that `.open` left on its line.
const ANSWERS = [/^3503\r?$/m, /^(?:sqlite> )*347\r?$/m];

/** Bytes of the files under `dir` (each inode once), and of those linked from elsewhere. */
function diskUse(dir: string, seen: Set<number>): { bytes: number; sharedBytes: number } {
  let bytes = 0;
  let sharedBytes = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const st = statSync(join(e.parentPath, e.name));
    if (st.nlink > 1) sharedBytes += st.size;
    if (seen.has(st.ino)) continue;
    seen.add(st.ino);
    bytes += st.size;
  }
  return { bytes, sharedBytes };
}

test("tutorial: app-sqlite's 9pfs target answers SQL with -v ./rootfs:/, its arm64 initrd target on qemu-system-aarch64", {
  skip,
  timeout: 90 * 60_000,
}, async (t) => {
  const tmp = scratchDir(t);
  const app = join(tmp, "app-sqlite");
  execFileSync("git", ["clone", "-q", join(MIRROR!, "app-sqlite.git"), app]);
  const env = { KILN_HOME: join(tmp, "home") };
  const build = async (target: string) => {
    const started = Date.now();
    const r = await runKiln(["build", "--offline", "--with-mirror", MIRROR!, "-t", target, "-j2"], {
      cwd: app,
      env,
      timeoutMs: 40 * 60_000,
    });
    t.diagnostic(`build ${target} took ${Date.now() - started} ms`);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, / dropped: /);
    return r;
  };

  await t.test("the 9pfs target runs with -v ./rootfs:/", async () => {
    await build("sqlite-qemu-x86_64-initrd");
    const second = await build("sqlite-qemu-x86_64-9pfs");
    // Both x86_64 targets built: what they have in common is stored once.
    const m = /x86_64: (\d+) files \(([^)]+)\) stored once/.exec(second.stderr);
    assert.ok(m, second.stderr);
    const targets = join(app, ".unikraft/build/targets");
    const seen = new Set<number>();
    for (const d of ["sqlite-qemu-x86_64-initrd", "sqlite-qemu-x86_64-9pfs"]) {
      const u = diskUse(join(targets, d), seen);
      t.diagnostic(`${d}: ${u.bytes} bytes stored for it, ${u.sharedBytes} bytes of its files shared`);
    }
    t.diagnostic(`sharing: ${m[1]} files, ${m[2]}`);
    const run = await runKiln(["run", "-W", "-t", "sqlite-qemu-x86_64-9pfs", "-v", "./rootfs:/"], {
      cwd: app,
      env,
      input: QUERY,
      timeoutMs: 5 * 60_000,
    });
    for (const a of ANSWERS) assert.match(run.stdout, a, `${run.stdout}\n${run.stderr}`);
    assert.equal(run.code, 0, run.stderr);
  });

  await t.test(
    "the arm64 initrd target cross-builds and answers on qemu-system-aarch64",
    {
      skip:
        !which("aarch64-linux-gnu-gcc") || !which("qemu-system-aarch64")
          ? "aarch64-linux-gnu-gcc or qemu-system-aarch64 missing"
          : false,
    },
    async () => {
      await build("sqlite-qemu-arm64-initrd");
      const run = await runKiln(["run", "-W", "-t", "sqlite-qemu-arm64-initrd", "--initrd", "rootfs/"], {
        cwd: app,
        env,
        input: QUERY,
        timeoutMs: 10 * 60_000,
      });
      for (const a of ANSWERS) assert.match(run.stdout, a, `${run.stdout}\n${run.stderr}`);
      assert.equal(run.code, 0, run.stderr);
    },
  );
});
