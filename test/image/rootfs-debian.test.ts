/**
 * `debian:SUITE` through mmdebstrap (slow: needs a Debian mirror). Kept lean:
 * the `extract` variant with one package, so the run is seconds, yet it
 * exercises the whole path — mmdebstrap's tarball (device nodes, owners)
 * applied and packed. The mirror is found as Kiln finds it
 * (`KILN_DEBIAN_MIRROR`, config.yaml, the host's apt sources); the test
 * skips with a reason when there is none or it is unreachable.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { which } from "../../src/core/exec.js";
import { type PackageMirror, resolvePackageMirror } from "../../src/image/sources/apt-mirror.js";
import { KILN_FROM_SOURCE, REPO_ROOT, runKiln, scratchDir } from "../helpers/kiln.js";
import { debugfs, e2fsckClean } from "./rootfs-helpers.js";

/** `kiln` arguments building debian:bookworm (extract variant + busybox-static) into `out`, from the mirror Kiln picks. */
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
  ];
}

/** The mirror Kiln would use for debian:bookworm, or why there is none usable here. */
async function usableMirror(): Promise<PackageMirror | string> {
  let m: PackageMirror;
  try {
    m = await resolvePackageMirror({ distro: "debian", suite: "bookworm" });
  } catch (e) {
    return `no Debian mirror: ${(e as Error).message} (set KILN_DEBIAN_MIRROR)`;
  }
  if (!/^https?:/.test(m.uri)) return m;
  try {
    const r = await fetch(`${m.uri}/dists/bookworm/Release`, {
      method: "HEAD",
      signal: AbortSignal.timeout(5000),
    });
    return r.ok ? m : `Debian mirror ${m.uri} (${m.from}) answers HTTP ${r.status} (set KILN_DEBIAN_MIRROR)`;
  } catch (e) {
    return `Debian mirror ${m.uri} (${m.from}) unreachable: ${(e as Error).message} (set KILN_DEBIAN_MIRROR)`;
  }
}

test("debian:bookworm (mmdebstrap, extract variant + busybox-static) → ext4", {
  timeout: 600_000,
}, async (t) => {
  if (!which("mmdebstrap")) {
    t.skip("mmdebstrap missing (apt-get install mmdebstrap)");
    return;
  }
  const mirror = await usableMirror();
  if (typeof mirror === "string") {
    t.skip(mirror);
    return;
  }
  const dir = scratchDir(t);
  const out = join(dir, "debian.ext4");
  const started = Date.now();
  const r = await runKiln([...buildBookworm(out), "--json"], { timeoutMs: 540_000 });
  t.diagnostic(`debian:bookworm build took ${Date.now() - started} ms`);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as {
    sourceKind: string;
    specials: number;
    mirror: { uri: string; from: string };
  };
  assert.equal(result.sourceKind, "debian");
  // The CLI picked the same mirror, said so, and reports it.
  assert.deepEqual(result.mirror, { uri: mirror.uri, from: mirror.from });
  assert.ok(r.stderr.includes(`debian:bookworm packages from ${mirror.uri} (${mirror.from})`), r.stderr);
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
  const mirror = which("mmdebstrap")
    ? await usableMirror()
    : "mmdebstrap missing (apt-get install mmdebstrap)";
  if (typeof mirror === "string") {
    t.skip(mirror);
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

test("debian:SUITE with no usable apt entry: APT_NO_MIRROR names how to give one; nothing written", async (t) => {
  const dir = scratchDir(t);
  mkdirSync(join(dir, "apt/sources.list.d"), { recursive: true });
  writeFileSync(
    join(dir, "apt/sources.list.d/vendor.list"),
    "deb https://vendor.example.test/apt stable main\n",
  );
  const out = join(dir, "u.ext4");
  const r = await runKiln(["rootfs", "build", "ubuntu:noble", "-o", out], {
    env: { KILN_APT_ETC: join(dir, "apt"), KILN_HOME: join(dir, "home"), KILN_UBUNTU_MIRROR: "" },
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /no apt source on this host serves ubuntu packages for ubuntu:noble/);
  assert.match(r.stderr, /vendor\.list:1: https:\/\/vendor\.example\.test\/apt stable/);
  assert.match(r.stderr, /--mirror URL, KILN_UBUNTU_MIRROR=URL/);
  assert.deepEqual(
    readdirSync(dir).filter((n) => n !== "apt" && n !== "home"),
    [],
    "no image and no staging directory are left",
  );
  assert.equal(existsSync(out), false);
});
