/**
 * The published package works on its own: `npm pack`, then `npm install -g`
 * of the tarball into a fresh prefix (npm's cache first: `npm ci` fetched
 * the dependencies' tarballs; their metadata may come from the registry), gives a working
 * `kiln` (version, help, a real rootfs build) and an importable library.
 * Needs the build (`npm run build`, as `npm test` does first).
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT, scratchDir } from "./helpers/kiln.js";

const skip = existsSync(join(REPO_ROOT, "dist/cli/main.js"))
  ? false
  : "dist/ missing: run npm run build first";

test("npm pack + npm install -g of the tarball gives a working kiln", { skip, timeout: 300_000 }, (t) => {
  const started = Date.now();
  const dir = scratchDir(t);
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
    name: string;
    license: string;
    dependencies: Record<string, string>;
  };
  assert.equal(pkg.license, "BSD-3-Clause");
  assert.match(readFileSync(join(REPO_ROOT, "LICENSE"), "utf8"), /^BSD 3-Clause License/);
  assert.ok(!("ajv" in pkg.dependencies), "ajv is for tests only");
  execFileSync("npm", ["pack", "--pack-destination", dir, "--silent"], { cwd: REPO_ROOT, stdio: "pipe" });
  const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  assert.ok(tarball, "npm pack wrote a tarball");
  const prefix = join(dir, "prefix");
  const install = spawnSync(
    "npm",
    ["install", "-g", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", join(dir, tarball!)],
    { cwd: dir, encoding: "utf8" },
  );
  assert.equal(install.status, 0, install.stderr);
  const kiln = join(prefix, "bin/kiln");
  const env = { ...process.env, NO_COLOR: "1", KILN_HOME: join(dir, "home") };
  const version = spawnSync(kiln, ["version", "--json"], { cwd: dir, env, encoding: "utf8" });
  assert.equal(version.status, 0, version.stderr);
  assert.equal(JSON.parse(version.stdout).ok, true);
  mkdirSync(join(dir, "tree/etc"), { recursive: true });
  writeFileSync(join(dir, "tree/etc/hostname"), "packed\n");
  const built = spawnSync(kiln, ["rootfs", "build", join(dir, "tree"), "-o", join(dir, "t.cpio"), "--json"], {
    cwd: dir,
    env,
    encoding: "utf8",
  });
  assert.equal(built.status, 0, built.stderr);
  assert.equal(JSON.parse(built.stdout).format, "cpio");
  // The library from the installed copy: the façade is there, a subpath too.
  const lib = join(prefix, "lib/node_modules", pkg.name);
  const imported = spawnSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `const m = await import(${JSON.stringify(join(lib, "dist/index.js"))}); const c = await import(${JSON.stringify(`${pkg.name}/core`)});
       console.log(typeof m.boot, typeof m.pack, typeof c.formatBytes);`,
    ],
    { cwd: lib, encoding: "utf8" },
  );
  assert.equal(imported.status, 0, imported.stderr);
  assert.equal(imported.stdout.trim(), "function function function");
  t.diagnostic(`pack + install + checks took ${Date.now() - started} ms`);
});
