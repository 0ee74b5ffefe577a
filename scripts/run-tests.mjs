#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with Node's test runner (through
// tsx), or only the files/directories given as arguments. Node 20's --test
// does not expand globs, hence this script.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

function collect(path, out) {
  const st = statSync(path);
  if (st.isFile()) {
    if (path.endsWith(".test.ts")) out.push(path);
    return;
  }
  for (const name of readdirSync(path).sort()) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    collect(join(path, name), out);
  }
}

const roots = process.argv.slice(2);
const files = [];
for (const r of roots.length ? roots : ["src", "test"]) collect(resolve(r), files);
if (files.length === 0) {
  console.error("no test files found");
  process.exit(1);
}
// Tests read the reference data in ../shared (or KILN_SHARED); say up front when it is absent.
const shared = resolve(process.env.KILN_SHARED ?? join(import.meta.dirname, "../../shared"));
if (!existsSync(join(shared, "data"))) {
  console.error(
    `warning: reference data ${join(shared, "data")} not found: tests reading it skip, naming it (under CI=true they fail); set KILN_SHARED to the shared/ directory`,
  );
}
const concurrency = process.env.KILN_TEST_CONCURRENCY ?? "2";
const started = Date.now();
const r = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, "--test-reporter=spec", ...files],
  { stdio: "inherit" },
);
console.log(`test run took ${((Date.now() - started) / 1000).toFixed(1)} s (${files.length} files)`);
process.exit(r.status ?? 1);
