#!/usr/bin/env node
// Thin launcher for the compiled CLI (npm run build): the bundle in
// dist/bundle/ (scripts/bundle.mjs) when present, else tsc's dist/cli/.
// Node's on-disk compile cache (module.enableCompileCache, Node ≥ 22.1)
// saves re-parsing the bundle on every start; older Nodes skip it.
import { existsSync } from "node:fs";
import module from "node:module";

if (typeof module.enableCompileCache === "function" && !process.env.NODE_DISABLE_COMPILE_CACHE) {
  try {
    module.enableCompileCache();
  } catch {
    // a cache directory Node cannot create only costs speed
  }
}
const bundle = new URL("../dist/bundle/main.js", import.meta.url);
await import(existsSync(bundle) ? bundle.href : "../dist/cli/main.js");
