/**
 * `debian:SUITE` through mmdebstrap (slow: needs Debian's mirror). Kept lean:
 * the `extract` variant with one package, so the run is seconds, yet it
 * exercises the whole path — mmdebstrap's tarball (device nodes, owners)
 * applied and packed. Skipped with a reason when the mirror is unreachable.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, lstatSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { which } from "../../src/core/exec.js";
import { KILN_FROM_SOURCE, REPO_ROOT, runKiln, scratchDir } from "../helpers/kiln.js";
import { debugfs, e2fsckClean } from "./rootfs-helpers.js";

const MIRROR = process.env.KILN_TEST_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";

/** `kiln` arguments building debian:bookworm (extract variant + busybox-static) from MIRROR into `out`. */
function buildBookworm(out: string): string[] {
  return [
    "rootfs",
    "build",
    "debian:bookworm",
    "-o",
    out,
    "--variant",
    "extract",
    "--include",
    "busybox-static",
    "--mirror",
    MIRROR,
  ];
}

async function mirrorReachable(): Promise<boolean> {
  try {
    const r = await fetch(`${MIRROR}/dists/bookworm/Release`, {
      method: "HEAD",
      signal: AbortSignal.timeout(5000),
    });
    return r.ok;
  } catch {
    return false;
  }
}

test("debian:bookworm (mmdebstrap, extract variant + busybox-static) → ext4", {
  timeout: 600_000,
}, async (t) => {
  if (!which("mmdebstrap")) {
    t.skip("mmdebstrap missing (apt-get install mmdebstrap)");
    return;
  }
  if (!(await mirrorReachable())) {
    t.skip(`Debian mirror ${MIRROR} unreachable (set KILN_TEST_DEBIAN_MIRROR)`);
    return;
  }
  const dir = scratchDir(t);
  const out = join(dir, "debian.ext4");
  const started = Date.now();
  const r = await runKiln([...buildBookworm(out), "--json"], { timeoutMs: 540_000 });
  t.diagnostic(`debian:bookworm build took ${Date.now() - started} ms`);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { sourceKind: string; specials: number };
  assert.equal(result.sourceKind, "debian");
  assert.ok(result.specials > 0, "mmdebstrap's /dev nodes are recorded");
  assert.equal(e2fsckClean(out).code, 0);
  assert.match(debugfs(out, "stat /bin/busybox"), /Type: regular\s+Mode:\s+0755/);
  assert.match(debugfs(out, "stat /dev/null"), /Device major\/minor number: 01:03/);
  assert.match(debugfs(out, "cat /usr/share/doc/busybox-static/copyright"), /BusyBox/);
  // A bad variant is refused before anything is downloaded.
  const bad = await runKiln([
    "rootfs",
    "build",
    "debian:bookworm",
    "-o",
    join(dir, "b.ext4"),
    "--variant",
    "tiny",
  ]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /variant "tiny" is not an mmdebstrap variant/);
});

test("debian:bookworm as the unprivileged user nobody (mmdebstrap chrootless) → ext4 owned by root", {
  timeout: 600_000,
}, async (t) => {
  if (process.getuid?.() !== 0 || !which("runuser")) {
    t.skip("needs root (to switch to nobody) and runuser");
    return;
  }
  if (!which("mmdebstrap") || !(await mirrorReachable())) {
    t.skip(`mmdebstrap missing or Debian mirror ${MIRROR} unreachable`);
    return;
  }
  const dir = scratchDir(t);
  chmodSync(dir, 0o777);
  const out = join(dir, "nobody.ext4");
  const started = Date.now();
  execFileSync("runuser", ["-u", "nobody", "--", ...KILN_FROM_SOURCE, ...buildBookworm(out)], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: "1", HOME: dir, TMPDIR: dir, KILN_HOME: join(dir, "home") },
    stdio: "pipe",
  });
  t.diagnostic(`unprivileged debian:bookworm build took ${Date.now() - started} ms`);
  assert.notEqual(lstatSync(out).uid, 0);
  assert.equal(e2fsckClean(out).code, 0);
  assert.match(debugfs(out, "stat /bin/busybox"), /User:\s+0\s+Group:\s+0/);
  assert.match(debugfs(out, "stat /dev/console"), /Device major\/minor number: 05:01/);
});
