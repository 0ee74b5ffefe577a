#!/usr/bin/env node
// Thin launcher for the compiled CLI (npm run build; scripts/bundle.mjs):
// - Node ≥ 22.1: the ES module bundle dist/bundle/main.js, with Node's own
//   on-disk compile cache (module.enableCompileCache) saving its re-parsing;
// - older Nodes: the same CLI as one CommonJS script, dist/bundle/kiln.cjs,
//   run through a V8 code cache kept in Kiln's cache directory
//   (src/cli/code-cache.ts), the only compile cache those Nodes offer;
// - without a bundle: tsc's dist/cli/main.js.
// NODE_DISABLE_COMPILE_CACHE=1 turns either cache off.
import { existsSync } from "node:fs";
import module from "node:module";
import { homedir } from "node:os";

const noCache = Boolean(process.env.NODE_DISABLE_COMPILE_CACHE);
const esm = new URL("../dist/bundle/main.js", import.meta.url);
const cjs = new URL("../dist/bundle/kiln.cjs", import.meta.url);
if (typeof module.enableCompileCache === "function" && existsSync(esm)) {
  if (!noCache) {
    try {
      module.enableCompileCache();
    } catch {
      // a cache directory Node cannot create only costs speed
    }
  }
  await import(esm.href);
} else if (existsSync(cjs)) {
  const { codeCacheDir, commandKey, runWithCodeCache } = await import("../dist/cli/code-cache.js");
  const env = process.env;
  const cacheDir = noCache ? undefined : codeCacheDir(env, homedir());
  const outcome = runWithCodeCache({
    bundle: cjs.pathname,
    cacheDir,
    command: commandKey(process.argv.slice(2), existsSync),
    importEsm: (specifier) => import(specifier),
  });
  if (env.KILN_LOG === "debug") process.stderr.write(`kiln: code cache ${outcome} (in ${cacheDir})\n`);
} else {
  await import(existsSync(esm) ? esm.href : "../dist/cli/main.js");
}
