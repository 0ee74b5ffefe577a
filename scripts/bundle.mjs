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
//
// It also writes dist/bundle/kiln.cjs, the same CLI as ONE CommonJS script,
// for Nodes without module.enableCompileCache (< 22.1): bin/kiln.js runs it
// through vm.Script with a V8 code cache (src/cli/code-cache.ts), which only
// a classic script can have on those Nodes. Its first line names the hash of
// the rest, the cache's key. Two modules stay ES modules, in the split bundle
// under stable names, loaded through the `__kilnImport` the loader passes in
// (a vm.Script cannot import()): the terminal menu (ink and its layout engine
// use top-level await, which CommonJS cannot hold) and undici (~800 KB that
// only an HTTPS registry with custom certificates needs).
import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { build } from "esbuild";

const repo = resolve(import.meta.dirname, "..");
const outdir = join(repo, "dist/bundle");
rmSync(outdir, { recursive: true, force: true });
const started = Date.now();
const result = await build({
  entryPoints: {
    main: join(repo, "src/cli/main.ts"),
    // Stable names for what the CommonJS bundle imports (see above).
    terminal: join(repo, "src/cli/menu/terminal.ts"),
    undici: createRequire(join(repo, "package.json")).resolve("undici"),
  },
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

/** The lazy imports the CommonJS bundle routes to the ES modules above: file → [import, replacement]. */
const esmImports = {
  [join(repo, "src/cli/menu/run.ts")]: [
    'await import("./terminal.js")',
    'await __kilnImport("./terminal.js")',
  ],
  [join(repo, "src/core/registry/client.ts")]: [
    'await import("undici")',
    'await __kilnImport("./undici.js")',
  ],
};
const cjsFile = join(outdir, "kiln.cjs");
await build({
  entryPoints: [join(repo, "src/cli/main.ts")],
  outfile: cjsFile,
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  // main.ts and version.ts find package.json from import.meta.url, as in the ES modules.
  define: { "import.meta.url": "__kilnBundleUrl" },
  banner: { js: 'var __kilnBundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  external: ["react-devtools-core"],
  logLevel: "warning",
  plugins: [
    {
      name: "kiln-esm-imports",
      setup(b) {
        b.onLoad({ filter: /src\/(cli\/menu\/run|core\/registry\/client)\.ts$/ }, (args) => {
          const [from, to] = esmImports[args.path];
          const text = readFileSync(args.path, "utf8");
          if (text.split(from).length !== 2)
            throw new Error(
              `${args.path} must contain exactly one ${from} (the CommonJS bundle imports it as ESM)`,
            );
          return { contents: text.replace(from, to), loader: "ts" };
        });
      },
    },
  ],
});
// ASCII only: Node reads a pure-ASCII file into a one-byte string several times faster (a single
// "…" in a comment cost the 1.6 MB read ~15 ms here). esbuild leaves comments and regular expression
// literals as written; `\uXXXX` means the same character in a string, a regex or an identifier,
// and in a comment it is only text.
const body = readFileSync(cjsFile, "utf8").replace(/[^\0-\x7f]/g, (c) => {
  if (c.length > 1 || /[\ud800-\udfff]/.test(c))
    throw new Error(
      `kiln.cjs: a character outside the Basic Multilingual Plane (${c}) cannot be escaped as \\uXXXX`,
    );
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
});
// The key of the code cache: a hash of the bundle's text, in its first line (read without hashing 2 MB at start-up).
const sha = createHash("sha256").update(body).digest("hex");
writeFileSync(cjsFile, `// kiln-bundle ${sha}\n${body}`);
const files = Object.keys(result.metafile.outputs).filter((f) => f.endsWith(".js"));
console.log(
  `bundled the CLI into ${files.length} files in dist/bundle, and kiln.cjs (${(body.length / 1e6).toFixed(1)} MB) (${Date.now() - started} ms)`,
);
