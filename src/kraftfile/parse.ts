/**
 * `parseKraftfile`: Kraftfile text in, a normalized {@link Project} and every
 * problem found out. Pure: the only outside facts come through `host`
 * (environment for `${VAR}`, which paths are directories).
 */
import { basename, dirname, isAbsolute, resolve } from "node:path";
import {
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  LineCounter,
  type Node,
  type Pair,
  parseDocument,
  visit,
} from "yaml";
import { DiagnosticSink } from "./diagnostics.js";
import { type ParseHost, Reader } from "./reader.js";
import { readCmd, readComponent, readLibraries, readRootfs, readVolumes } from "./sections.js";
import { readTargets } from "./targets.js";
import type { Diagnostic, Project, SpecVersion } from "./types.js";

export type { ParseHost } from "./reader.js";

/** Top-level keys of a Kraftfile (KraftKit's v0.5/v0.6 schemas, plus `cmd` which KraftKit reads). */
export const TOP_LEVEL_KEYS = [
  "specification",
  "spec",
  "name",
  "outdir",
  "unikraft",
  "template",
  "runtime",
  "rootfs",
  "cmd",
  "env",
  "labels",
  "volumes",
  "targets",
  "libraries",
] as const;

/** Keys that v0.6 introduced; a v0.5 file using them gets a warning. */
const SINCE_V06 = ["spec", "runtime", "rootfs", "cmd", "env", "labels", "volumes"];

export const SPEC_VERSIONS: readonly SpecVersion[] = ["0.5", "0.6", "0.7"];

export interface ParseResult {
  /** Present when there are no errors. */
  project?: Project;
  /** Errors and warnings, in file order. */
  diagnostics: Diagnostic[];
}

/**
 * Parse and validate a Kraftfile. `file` names it in messages and anchors
 * relative paths (its directory is the project's directory).
 */
export function parseKraftfile(text: string, file: string, host: ParseHost): ParseResult {
  const absFile = isAbsolute(file) ? file : resolve(file);
  const junk = junkOffset(text);
  if (junk !== undefined) {
    const sink = new DiagnosticSink(file, "");
    sink.addAt(
      "error",
      "not-text",
      0,
      `not a text file: found ${junk.what} at byte ${junk.offset}; a Kraftfile is UTF-8 YAML`,
      "check that -K names the Kraftfile and not a binary",
    );
    return { diagnostics: sink.diagnostics };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    uniqueKeys: false,
    prettyErrors: false,
    keepSourceTokens: true,
  });
  const sink = new DiagnosticSink(file, text, lineCounter);
  for (const e of doc.errors) {
    const message =
      e.code === "MULTIPLE_DOCS"
        ? "a Kraftfile is one YAML document, but a second one starts here (`---`)"
        : `invalid YAML: ${firstLine(e.message)}`;
    sink.addAt("error", "yaml-syntax", e.pos[0], message, yamlHint(e.code, e.message));
  }
  for (const w of doc.warnings) {
    sink.addAt("warning", "yaml-warning", w.pos[0], `YAML: ${firstLine(w.message)}`);
  }
  if (doc.errors.length > 0) return done(sink);

  const root = doc.contents as Node | null;
  if (root === null || (isScalar(root) && root.value === null)) {
    sink.addAt(
      "error",
      "empty-file",
      0,
      "the Kraftfile is empty: it must be a YAML mapping with at least `spec` and `unikraft`, `template` or `runtime`",
      "start from: spec: v0.6 / unikraft: stable / targets: [qemu/x86_64]",
    );
    return done(sink);
  }
  if (!isMap(root)) {
    const r = new Reader(sink, doc, host, dirname(absFile), text);
    sink.error("invalid-type", root, `a Kraftfile must be a YAML mapping of keys, got ${r.describe(root)}`);
    return done(sink);
  }
  checkDuplicateKeys(doc, sink);

  const dir = dirname(absFile);
  const r = new Reader(sink, doc, host, dir, text);
  const p = r.pairs(root, TOP_LEVEL_KEYS, "the Kraftfile");
  const key = (k: string) => p.get(k)?.key as Node;
  const val = (k: string) => r.value(p.get(k));

  const specification = readSpec(r, p);
  if (specification === "0.5") {
    for (const k of SINCE_V06) {
      if (p.has(k) && k !== "runtime") {
        sink.warn(
          "newer-key",
          key(k),
          `\`${k}\` is not part of Kraftfile spec v0.5 (it came with v0.6)`,
          "declare `spec: v0.6` to use it",
        );
      }
    }
  }

  let name = basename(dir);
  if (p.has("name")) {
    const n = r.string(val("name"), "`name`", key("name"));
    if (n !== undefined && !/^[^\s/\\'"$`]+$/.test(n)) {
      sink.error(
        "invalid-name",
        val("name"),
        `\`name\` must be one word without spaces, slashes, quotes or \`$\` (it names files and CONFIG_UK_NAME), got \`${n}\``,
      );
    } else if (n !== undefined) name = n;
  }
  let outdir = resolve(dir, ".unikraft/build");
  if (p.has("outdir")) {
    const o = r.string(val("outdir"), "`outdir`", key("outdir"));
    if (o) outdir = resolve(dir, o);
  }

  const unikraft = p.has("unikraft")
    ? readComponent(r, val("unikraft"), "unikraft", "unikraft", key("unikraft"))
    : undefined;
  const template = p.has("template")
    ? readComponent(r, val("template"), "template", "template", key("template"))
    : undefined;
  let runtime: string | undefined;
  if (p.has("runtime")) runtime = readRuntime(r, val("runtime"), key("runtime"));

  // Required keys per version: v0.5 needs `unikraft` (its schema's `required`);
  // v0.6+ needs one of unikraft/template/runtime, and runtime excludes the others.
  if (specification === "0.5" && !p.has("unikraft")) {
    sink.addAt(
      "error",
      "missing-required",
      root.range?.[0] ?? 0,
      "a spec v0.5 Kraftfile must have a `unikraft` key",
      "add `unikraft: stable`",
    );
  } else if (!p.has("unikraft") && !p.has("template") && !p.has("runtime")) {
    sink.addAt(
      "error",
      "missing-required",
      root.range?.[0] ?? 0,
      "a Kraftfile needs one of `unikraft`, `template` or `runtime`; found none",
      "add `unikraft: stable` to build Unikraft, or `runtime: base:latest` to run a prebuilt kernel",
    );
  }
  if (p.has("runtime")) {
    for (const other of ["unikraft", "template"]) {
      if (p.has(other)) {
        sink.error(
          "conflicting-keys",
          key(other),
          `\`${other}\` cannot be combined with \`runtime\`: a runtime is a prebuilt kernel`,
          `remove \`${other}\` to run on the runtime, or remove \`runtime\` to build Unikraft`,
        );
      }
    }
    if (specification === "0.5") {
      sink.error("newer-key", key("runtime"), "`runtime` needs Kraftfile spec v0.6 or later, got v0.5");
    }
  }

  const builds = p.has("unikraft") || p.has("template");
  let targets: Project["targets"] = [];
  if (p.has("targets")) targets = readTargets(r, val("targets"), key("targets"), name, specification);
  else if (builds && !p.has("runtime")) {
    sink.addAt(
      "error",
      "missing-target",
      root.range?.[0] ?? 0,
      "no `targets`: a project that builds Unikraft needs at least one target",
      "add: targets: [qemu/x86_64]",
    );
  }
  const libraries = p.has("libraries") ? readLibraries(r, val("libraries"), key("libraries")) : [];
  const rootfs = p.has("rootfs") ? readRootfs(r, val("rootfs"), key("rootfs")) : undefined;
  const cmd = p.has("cmd") ? readCmd(r, val("cmd"), key("cmd")) : [];
  const env = p.has("env")
    ? r.dict(val("env"), "env", {
        pattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
        rule: "an environment variable name (letters, digits and `_`, not starting with a digit)",
      })
    : {};
  const labels = p.has("labels") ? r.dict(val("labels"), "labels") : {};
  const volumes = p.has("volumes") ? readVolumes(r, val("volumes"), key("volumes")) : [];
  const extensions: Record<string, unknown> = {};
  for (const [k, pair] of p)
    if (k.startsWith("x-")) extensions[k] = (pair.value as Node | null)?.toJSON() ?? null;

  if (sink.errorCount > 0) return done(sink);
  const project: Project = {
    file: absFile,
    dir,
    specification,
    name,
    outdir,
    ...(unikraft ? { unikraft } : {}),
    ...(template ? { template } : {}),
    ...(runtime !== undefined ? { runtime } : {}),
    ...(rootfs ? { rootfs } : {}),
    cmd,
    env,
    labels,
    volumes,
    targets,
    libraries,
    extensions,
  };
  return { project, diagnostics: done(sink).diagnostics };
}

function done(sink: DiagnosticSink): ParseResult {
  const diagnostics = [...sink.diagnostics].sort((a, b) => a.line - b.line || a.col - b.col);
  return { diagnostics };
}

/** What to do about a YAML syntax error, by the `yaml` library's error code. */
function yamlHint(code: string, message: string): string {
  if (/^Flow sequence/.test(message))
    return "a `[` list is not closed: end it with `]` on the same line, or write one `- item` per line";
  if (/^Flow map/.test(message))
    return "a `{` mapping is not closed: end it with `}`, or write one `key: value` per line";
  if (/^Missing closing/.test(message)) return "a quoted string is not closed: add the closing quote";
  switch (code) {
    case "BAD_INDENT":
      return "keys of one mapping must start at the same column; indent with spaces, two per level";
    case "TAB_AS_INDENT":
      return "YAML forbids tabs for indentation: indent with spaces";
    case "MULTIPLE_DOCS":
      return "remove the `---` line and what follows it, or merge it into the one mapping";
    case "BLOCK_AS_IMPLICIT_KEY":
    case "MULTILINE_IMPLICIT_KEY":
      return 'a value cannot hold `key: value` on the same line: quote it ("a: b") or put the nested key on its own, more indented line';
    case "BAD_SCALAR_START":
      return "values starting with `@`, `` ` ``, `%` or `|`/`>` in the wrong place must be quoted";
    case "MISSING_CHAR":
      return "every line in a mapping is `key: value`; a name alone needs a `:` after it";
    default:
      return "a Kraftfile is YAML: check indentation (spaces only), quotes and brackets at this position";
  }
}

function firstLine(s: string): string {
  return s.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

/** NUL bytes or U+FFFD (what invalid UTF-8 decodes to) mean binary junk, not YAML. */
function junkOffset(text: string): { what: string; offset: number } | undefined {
  const nul = text.indexOf("\0");
  const bad = text.indexOf("\uFFFD");
  if (nul === -1 && bad === -1) return undefined;
  const at = nul === -1 ? bad : bad === -1 ? nul : Math.min(nul, bad);
  const offset = Buffer.byteLength(text.slice(0, at), "utf8");
  return { what: text[at] === "\0" ? "a NUL byte" : "invalid UTF-8", offset };
}

/** `spec`/`specification`: `0.6`, `v0.6`, `'0.5'`; missing reads as v0.6 with a warning. */
function readSpec(r: Reader, p: Map<string, Pair<Node, Node | null>>): SpecVersion {
  const a = p.get("specification");
  const b = p.get("spec");
  if (a && b) {
    r.sink.error(
      "conflicting-keys",
      ((a.key as Node).range?.[0] ?? 0) > ((b.key as Node).range?.[0] ?? 0) ? a.key : b.key,
      "both `spec` and `specification` are given; they are the same key",
      "keep one",
    );
  }
  const pair = a ?? b;
  if (!pair) {
    r.sink.addAt(
      "warning",
      "missing-spec",
      0,
      "no `spec` key; reading the file as Kraftfile spec v0.6",
      "declare the version first: spec: v0.6",
    );
    return "0.6";
  }
  const node = r.value(pair);
  const text = r.string(node, `\`${String((pair.key as { value?: unknown }).value)}\``, pair.key);
  if (text === undefined) return "0.6";
  const v = text.replace(/^v/, "");
  if (!SPEC_VERSIONS.includes(v as SpecVersion)) {
    r.sink.error(
      "unknown-spec",
      node,
      `unsupported Kraftfile specification \`${text}\`; Kiln reads v0.5, v0.6 and v0.7`,
      "write e.g. `spec: v0.6`",
    );
    return "0.6";
  }
  return v as SpecVersion;
}

/**
 * `runtime:` — an image reference (`base:latest`, `127.0.0.1:5000/python:3.12`)
 * kept as written, or `{source, version}` joined as `source:version`.
 */
function readRuntime(r: Reader, node: Node | null, keyNode: Node): string | undefined {
  if (isScalar(node) && node.value !== null) {
    const s = r.string(node, "`runtime`", keyNode);
    if (s === "") r.sink.error("invalid-value", node, "`runtime` must name an image, got an empty string");
    return s || undefined;
  }
  if (isMap(node)) {
    const p = r.pairs(node, ["source", "version", "kconfig"], "`runtime`");
    const source = p.has("source")
      ? r.string(r.value(p.get("source")), "`runtime.source`", p.get("source")!.key)
      : undefined;
    const version = p.has("version")
      ? r.string(r.value(p.get("version")), "`runtime.version`", p.get("version")!.key)
      : undefined;
    if (!p.has("source")) r.sink.error("missing-required", node, "`runtime` has no `source`");
    return source === undefined ? undefined : version ? `${source}:${version}` : source;
  }
  r.sink.error(
    "invalid-type",
    node ?? keyNode,
    `\`runtime\` must be an image reference such as \`base:latest\`, got ${r.describe(node)}`,
  );
  return undefined;
}

/**
 * YAML forbids duplicate keys but KraftKit's parser and a few catalog files
 * tolerate repeats; Kiln reports a repeat with the same value as a warning
 * and one with a different value as an error (which value wins is unclear).
 */
function checkDuplicateKeys(doc: ReturnType<typeof parseDocument>, sink: DiagnosticSink): void {
  visit(doc, {
    Map(_, map) {
      const seen = new Map<string, { line: number; json: string }>();
      for (const item of map.items) {
        if (!isPair(item) || !isScalar(item.key)) continue;
        const k = String(item.key.value);
        const v = item.value;
        const json = isAlias(v)
          ? `*${v.source}`
          : JSON.stringify(isCollection(v) || isScalar(v) ? v.toJSON() : null);
        const line = sink.position(item.key.range?.[0] ?? 0).line;
        const prev = seen.get(k);
        if (!prev) {
          seen.set(k, { line, json });
        } else if (prev.json === json) {
          sink.warn(
            "duplicate-key",
            item.key,
            `duplicate key \`${k}\` repeats the value it has on line ${prev.line}`,
            "remove the repeated line",
          );
        } else {
          sink.error(
            "duplicate-key",
            item.key,
            `duplicate key \`${k}\` with a different value than on line ${prev.line}`,
            "keep only the one you mean",
          );
        }
      }
    },
  });
}
