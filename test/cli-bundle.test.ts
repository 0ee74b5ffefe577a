/**
 * The bundled CLI (`npm run build` → dist/bundle/, scripts/bundle.mjs) as
 * users run it through bin/kiln.js: the version, an empty `ps --json`, a
 * Kraftfile read (the bundled YAML parser), a CPIO and an ext4 image, and
 * a machine record created under the store's lock (the bundled CommonJS
 * proper-lockfile, whose require() calls need the bundle's shim). Skips when
 * dist/bundle is missing (`npm test` builds it first).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import nodeModule from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT, scratchDir } from "./helpers/kiln.js";
import { startTerminal } from "./helpers/tmux.js";

const BUNDLE = join(REPO_ROOT, "dist/bundle/main.js");
const skip = existsSync(BUNDLE) ? false : "dist/bundle is missing: run `npm run build` first";

function kiln(args: string[], env: NodeJS.ProcessEnv, cwd = REPO_ROOT) {
  return spawnSync(process.execPath, [join(REPO_ROOT, "bin/kiln.js"), ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1", ...env },
    encoding: "utf8",
  });
}

test("bin/kiln.js runs the bundle: version, ps, validate, rootfs build", { skip }, (t) => {
  const dir = scratchDir(t);
  const env = { KILN_HOME: join(dir, "home") };
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
  const v = kiln(["--version"], env);
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stdout, `kiln ${pkg.version}\n`);

  const ps = kiln(["ps", "--json"], env);
  assert.equal(ps.status, 0, ps.stderr);
  assert.deepEqual(JSON.parse(ps.stdout), []);

  const bad = kiln(["biuld-nothing"], env);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^error: unknown command "biuld-nothing"/);

  const app = join(dir, "app");
  mkdirSync(app);
  writeFileSync(
    join(app, "Kraftfile"),
    "spec: v0.6\nname: hello\nunikraft: stable\ntargets:\n  - qemu/x86_64\n",
  );
  const val = kiln(["validate", app], env);
  assert.equal(val.status, 0, val.stderr + val.stdout);

  const root = join(dir, "root");
  mkdirSync(join(root, "etc"), { recursive: true });
  writeFileSync(join(root, "etc/hostname"), "bundled\n");
  for (const out of ["x.cpio", "x.ext4"]) {
    const r = kiln(["rootfs", "build", root, "-o", join(dir, out), "--json"], env);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).sourceKind, "directory");
  }
  const cpio = spawnSync("cpio", ["-it", "--quiet"], {
    input: readFileSync(join(dir, "x.cpio")),
    encoding: "utf8",
  });
  assert.match(cpio.stdout, /^etc\/hostname$/m);
  const cat = spawnSync("debugfs", ["-R", "cat /etc/hostname", join(dir, "x.ext4")], { encoding: "utf8" });
  assert.equal(cat.stdout, "bundled\n");
});

test("bin/kiln.js run: the machine store's lock works in the bundle", { skip }, (t) => {
  const dir = scratchDir(t);
  // A stand-in QEMU that exits at once: Kiln creates the machine (under the lock), then reports the failure.
  const bin = join(dir, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "qemu-system-x86_64"), "#!/bin/sh\necho stand-in QEMU >&2\nexit 3\n");
  chmodSync(join(bin, "qemu-system-x86_64"), 0o755);
  const kernel = readdirSync("/boot").find((f) => f.startsWith("vmlinuz-"));
  if (!kernel) {
    t.skip("no /boot/vmlinuz-* to hand to kiln run");
    return;
  }
  const r = kiln(["run", "-W", "--rm", "--network", "none", join("/boot", kernel)], {
    KILN_HOME: join(dir, "home"),
    PATH: `${bin}:${process.env.PATH}`,
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^error: QEMU did not start machine \w+/m);
  assert.doesNotMatch(r.stderr, /internal error|Dynamic require/);
});

test("bin/kiln.js on a Node without enableCompileCache: kiln.cjs through its V8 code cache, same answers", {
  skip:
    skip ||
    (typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === "function"
      ? "this Node has module.enableCompileCache: bin/kiln.js runs the ES module bundle with Node's own cache"
      : false),
}, (t) => {
  const dir = scratchDir(t);
  const home = join(dir, "home");
  const env = { KILN_HOME: home, KILN_LOG: "debug" };
  const first = kiln(["ps", "--json"], env);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stderr, /^kiln: code cache absent/m);
  const second = kiln(["ps", "--json"], env);
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stderr, /^kiln: code cache used/m);
  assert.equal(second.stdout, first.stdout);
  assert.equal(readdirSync(join(home, "cache/code-cache")).length, 1);
  // NODE_DISABLE_COMPILE_CACHE turns it off (Node's own switch for its cache).
  const off = kiln(["ps", "--json"], { ...env, NODE_DISABLE_COMPILE_CACHE: "1" });
  assert.equal(off.status, 0, off.stderr);
  assert.match(off.stderr, /^kiln: code cache disabled/m);
});

test("bin/kiln.js config menu: the terminal menu (ink, an ES module the CommonJS bundle imports) draws in tmux", {
  skip,
}, async (t) => {
  const dir = scratchDir(t, "kiln-menu-");
  writeFileSync(join(dir, "empty.config"), "");
  const fixture = join(REPO_ROOT, "test/fixtures/kconfig-menu");
  const term = startTerminal(
    t,
    [
      process.execPath,
      join(REPO_ROOT, "bin/kiln.js"),
      ...["config", "menu", "--srctree", fixture, "--arch", "x86_64", "--in", "empty.config"],
      ...["--out", "out.config"],
    ],
    { width: 80, height: 24, cwd: dir, env: { TERM: "xterm-256color", KILN_HOME: join(dir, "home") } },
  );
  await term.waitFor(/^>\s+General setup {2}--->$/m, 60_000);
});
