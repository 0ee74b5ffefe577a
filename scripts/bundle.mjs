#!/usr/bin/env node
// Bundle the CLI for start-up speed (npm run build runs this after tsc):
// esbuild turns src/cli/main.ts and everything it imports into a few files
// in dist/bundle/ — one entry, one chunk per lazily loaded command module
// (`import()` in src/cli/commands/index.ts), shared code in common chunks —
// so Node resolves and reads a handful of files instead of ~150 modules.
// bin/kiln.js loads dist/bundle/main.js when present, else dist/cli/main.js.
// The library (dist/index.js) and the tests (src/ through tsx) are unaffected.
// dist/bundle/ sits two levels below the package root, as dist/cli/ does, so
// `new URL("../../package.json", import.meta.url)` still finds package.json.
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";

const repo = resolve(import.meta.dirname, "..");
const outdir = join(repo, "dist/bundle");
rmSync(outdir, { recursive: true, force: true });
const started = Date.now();
const result = await build({
  entryPoints: { main: join(repo, "src/cli/main.ts") },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Bundled CommonJS dependencies (proper-lockfile, …) call require() for Node's built-ins.
  banner: {
    js: 'import { createRequire as __kilnCreateRequire } from "node:module"; const require = __kilnCreateRequire(import.meta.url);',
  },
  // ink loads react-devtools-core only under DEV=true, and it is not installed: leave the import as is.
  external: ["react-devtools-core"],
  sourcemap: "linked",
  logLevel: "warning",
  metafile: true,
});
const files = Object.keys(result.metafile.outputs).filter((f) => f.endsWith(".js"));
console.log(`bundled the CLI into ${files.length} files in dist/bundle (${Date.now() - started} ms)`);
