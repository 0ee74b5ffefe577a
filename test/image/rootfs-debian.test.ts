/**
 * `debian:SUITE` through mmdebstrap (slow: needs Debian's mirror). Kept lean:
 * the `extract` variant with one package, so the run is seconds, yet it
 * exercises the whole path — mmdebstrap's tarball (device nodes, owners)
 * applied and packed. Skipped with a reason when the mirror is unreachable.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { which } from "../../src/core/exec.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { debugfs, e2fsckClean } from "./rootfs-helpers.js";

const MIRROR = process.env.KILN_TEST_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";

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
  const r = await runKiln(
    [
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
      "--json",
    ],
    { timeoutMs: 540_000 },
  );
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
