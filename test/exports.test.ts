/**
 * The package root's surface is deliberate: its export names are snapshotted
 * in test/golden/exports.txt (regenerate with KILN_UPDATE_GOLDEN=1, then
 * review the diff), as isomorphic-git snapshots its API. Importing it must
 * not patch Node's fs (graceful-fs, behind proper-lockfile, does that when
 * loaded), and its import time is printed (measured on the built package).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT } from "./helpers/kiln.js";

const GOLDEN = join(REPO_ROOT, "test/golden/exports.txt");

test("the package root exports exactly the snapshotted names", async () => {
  const names = Object.keys(await import("../src/index.js")).sort();
  const text = `${names.join("\n")}\n`;
  if (process.env.KILN_UPDATE_GOLDEN === "1") writeFileSync(GOLDEN, text);
  assert.equal(
    text,
    readFileSync(GOLDEN, "utf8"),
    "export surface changed: review, then KILN_UPDATE_GOLDEN=1",
  );
  for (const f of [
    "boot",
    "build",
    "pack",
    "buildRootfs",
    "KilnError",
    "loadProject",
    "fetchProjectSources",
  ]) {
    assert.ok(names.includes(f), f);
  }
  for (const internal of ["planQemuArgv", "withLock", "spawnSupervised", "FirecrackerApi"]) {
    assert.ok(!names.includes(internal), `${internal} is internal`);
  }
});

test("importing the package does not patch Node's fs; its import time is measured", (t) => {
  // A fresh process: this one's fs may already be patched by other tests' imports.
  const entry = existsSync(join(REPO_ROOT, "dist/index.js")) ? "./dist/index.js" : undefined;
  const probe = (spec: string, loader: string[]) =>
    spawnSync(
      process.execPath,
      [
        ...loader,
        "--input-type=module",
        "-e",
        `import fs from "node:fs"; const t = performance.now(); await import(${JSON.stringify(spec)});
         const ms = performance.now() - t;
         console.log(JSON.stringify({ ms, patched: Symbol.for("graceful-fs.queue") in fs }));`,
      ],
      { cwd: REPO_ROOT, encoding: "utf8" },
    );
  const r = entry ? probe(entry, []) : probe("./src/index.ts", ["--import", "tsx"]);
  assert.equal(r.status, 0, r.stderr);
  const { ms, patched } = JSON.parse(r.stdout) as { ms: number; patched: boolean };
  assert.equal(patched, false, "graceful-fs patched fs at import");
  t.diagnostic(
    `import of ${entry ?? "src/index.ts (through tsx; npm run build measures dist)"} took ${ms.toFixed(0)} ms`,
  );
});
