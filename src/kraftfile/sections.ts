/**
 * Normalizing the sections of a Kraftfile that have short forms: components
 * (`unikraft`, `template`, `libraries`), `targets`, `rootfs`, `volumes` and
 * `cmd`. Each function reports problems through the {@link Reader} and
 * returns what it could make of the input.
 */
import { isAbsolute, resolve } from "node:path";
import { isMap, isScalar, isSeq, type Node, Scalar } from "yaml";
import { didYouMean } from "./diagnostics.js";
import type { Reader } from "./reader.js";
import {
  DEFAULT_UNIKRAFT_URL,
  DEFAULT_VERSION,
  defaultLibraryUrl,
  defaultTemplateUrl,
  isUrl,
  looksLikePath,
  resolveSourceString,
} from "./sources.js";
import { splitShellWords } from "./text.js";
import type { Component, ComponentSource, Rootfs, RootfsFormat, Volume } from "./types.js";

export type ComponentKind = "unikraft" | "template" | "library";

function defaultUrl(kind: ComponentKind, name: string): string {
  if (kind === "unikraft") return DEFAULT_UNIKRAFT_URL;
  if (kind === "library") return defaultLibraryUrl(name);
  return defaultTemplateUrl(name);
}

/**
 * A component from its short form (null, a version, a directory, a URL) or
 * its mapping `{source, version, kconfig}`.
 */
export function readComponent(
  r: Reader,
  node: Node | null,
  kind: ComponentKind,
  name: string,
  keyNode: Node,
): Component | undefined {
  const where = kind === "library" ? `library \`${name}\`` : `\`${kind}\``;
  const gitDefault = (version: string): ComponentSource => ({
    type: "git",
    url: defaultUrl(kind, name),
    version,
  });
  if (r.isNull(node)) return { name, source: gitDefault(DEFAULT_VERSION), kconfig: {} };
  if (isBoolean(node)) {
    // An error, not a guess: KraftKit's `lib.TransformMapFromSchema` rejects
    // anything but a string or a mapping ("invalid type bool for component"),
    // and reading `true` as the version "true" would fail later at git.
    r.sink.error(
      "invalid-version",
      node,
      `${where} must be a version, a source or a mapping, got a boolean (\`${r.raw(node as Scalar)}\`); a boolean is not a version`,
      `write \`${name}: stable\` (or a tag such as \`v0.17.0\`), or a mapping {source, version, kconfig}`,
    );
    return undefined;
  }
  if (isScalar(node)) {
    const text = r.string(node, where, keyNode);
    if (text === undefined) return undefined;
    if (text === "") {
      r.sink.error("invalid-value", node, `${where} must not be empty`);
      return undefined;
    }
    if (typeof node.value === "string" && (isUrl(text) || looksLikePath(text) || isDir(r, text))) {
      const res = resolveSourceString(text, r.dir, (p) => r.host.isDirectory(p));
      if (!res.ok) {
        r.sink.error(res.code ?? "invalid-source", node, res.message, res.hint);
        return undefined;
      }
      return { name, source: res.source, kconfig: {} };
    }
    if (kind === "template") {
      // A bare template name, optionally `name@version`.
      const at = text.indexOf("@");
      const tname = at === -1 ? text : text.slice(0, at);
      const version = at === -1 ? DEFAULT_VERSION : text.slice(at + 1);
      return { name: tname, source: { type: "git", url: defaultTemplateUrl(tname), version }, kconfig: {} };
    }
    // KraftKit reads any other string (`stable`, `v0.17.0`, a commit) as a version.
    return { name, source: gitDefault(text), kconfig: {} };
  }
  if (!isMap(node)) {
    r.sink.error(
      "invalid-type",
      node,
      `${where} must be a version, a source, or a mapping with source/version/kconfig, got ${r.describe(node)}`,
    );
    return undefined;
  }
  const p = r.pairs(node, ["source", "version", "kconfig"], where);
  const versionNode = r.value(p.get("version"));
  if (isBoolean(versionNode)) {
    r.sink.error(
      "invalid-version",
      versionNode,
      `${where} version must be a branch, tag or commit, got a boolean (\`${r.raw(versionNode as Scalar)}\`)`,
      "write e.g. `version: stable` or `version: v0.17.0`",
    );
  }
  const version =
    p.has("version") && !isBoolean(versionNode)
      ? r.string(versionNode, `${where} version`, p.get("version")?.key)
      : undefined;
  let source: ComponentSource | undefined;
  let compName = name;
  if (p.has("source")) {
    const sNode = r.value(p.get("source"));
    const text = r.string(sNode, `${where} source`, p.get("source")?.key);
    if (text !== undefined) {
      const res = resolveSourceString(text, r.dir, (x) => r.host.isDirectory(x));
      if (!res.ok) r.sink.error(res.code ?? "invalid-source", sNode, res.message, res.hint);
      else {
        source = res.source;
        if (source.type === "git") {
          if (version !== undefined && res.urlVersion !== undefined && version !== res.urlVersion) {
            r.sink.error(
              "conflicting-version",
              versionNode,
              `${where} names two versions: \`${res.urlVersion}\` in its source URL and \`${version}\` in \`version\``,
              "keep one of them",
            );
          }
          source = { ...source, version: version ?? res.urlVersion ?? DEFAULT_VERSION };
        } else if (version !== undefined) {
          r.sink.warn(
            "ignored-version",
            versionNode,
            `${where} version \`${version}\` is ignored: its source is a ${source.type === "directory" ? "local directory" : "source archive"}, used as it is`,
          );
        }
      }
    }
    if (kind === "template" && source?.type === "git") {
      // Name a template after its repository (`app-elfloader.git` → `elfloader`).
      const base =
        source.url
          .replace(/\.git$/, "")
          .split(/[/:]/)
          .pop() ?? name;
      compName = base.replace(/^app-/, "");
    }
  } else if (version !== undefined) source = gitDefault(version);
  else source = gitDefault(DEFAULT_VERSION);
  if (version === "") r.sink.error("invalid-value", versionNode, `${where} version must not be empty`);
  const kconfig = r.kconfig(r.value(p.get("kconfig")), where);
  return source ? { name: compName, source, kconfig } : undefined;
}

/** YAML `true`/`false` (also `yes`/`no` is a string in YAML 1.2, so only these two). */
function isBoolean(node: Node | null): boolean {
  return isScalar(node) && typeof node.value === "boolean";
}

function isDir(r: Reader, text: string): boolean {
  return r.host.isDirectory(isAbsolute(text) ? text : resolve(r.dir, text));
}

/** `libraries:` — a mapping of name → component, in the order written. */
export function readLibraries(r: Reader, node: Node | null, keyNode: Node): Component[] {
  if (r.isNull(node)) return [];
  if (!isMap(node)) {
    r.sink.error(
      "invalid-type",
      node ?? keyNode,
      `\`libraries\` must be a mapping of library names (e.g. \`musl: stable\`), got ${r.describe(node)}`,
    );
    return [];
  }
  const libs: Component[] = [];
  for (const item of node.items) {
    const key = item.key as Node | null;
    if (!isScalar(key) || key.value === null || !/^[A-Za-z0-9._-]+$/.test(String(key.value))) {
      r.sink.error(
        "invalid-key",
        key,
        `library names must be letters, digits, \`.\`, \`_\` or \`-\`, got ${r.describe(key)}`,
      );
      continue;
    }
    const lib = readComponent(r, r.deref(item.value), "library", String(key.value), key);
    if (lib) libs.push(lib);
  }
  return libs;
}

const FORMATS: readonly RootfsFormat[] = ["cpio", "erofs"];

/**
 * `rootfs:` — a path (directory, archive, Dockerfile: made absolute) or an
 * OCI image reference (kept as written), or `{source, format, type}`.
 */
export function readRootfs(r: Reader, node: Node | null, keyNode: Node): Rootfs | undefined {
  if (r.isNull(node)) {
    r.sink.error(
      "invalid-type",
      keyNode,
      "`rootfs` must be a path or an image reference, got nothing (null)",
    );
    return undefined;
  }
  if (isScalar(node)) {
    const text = r.string(node, "`rootfs`");
    return text === undefined ? undefined : { source: rootfsSource(r, text), format: "cpio" };
  }
  if (!isMap(node)) {
    r.sink.error(
      "invalid-type",
      node,
      `\`rootfs\` must be a path, an image reference or a mapping {source, format, type}, got ${r.describe(node)}`,
    );
    return undefined;
  }
  const p = r.pairs(node, ["source", "format", "type"], "`rootfs`");
  if (!p.has("source")) {
    r.sink.error("missing-required", node, "`rootfs` has no `source`", "add e.g. `source: ./rootfs`");
    return undefined;
  }
  const text = r.string(r.value(p.get("source")), "`rootfs.source`", p.get("source")!.key);
  let format: RootfsFormat = "cpio";
  if (p.has("format")) {
    const fNode = r.value(p.get("format"));
    const f = r.string(fNode, "`rootfs.format`", p.get("format")!.key);
    if (f !== undefined && !FORMATS.includes(f as RootfsFormat)) {
      r.sink.error(
        "invalid-value",
        fNode,
        `\`rootfs.format\` must be cpio or erofs, got \`${f}\`${didYouMean(f, FORMATS)}`,
      );
    } else if (f !== undefined) format = f as RootfsFormat;
  }
  const type = p.has("type")
    ? r.string(r.value(p.get("type")), "`rootfs.type`", p.get("type")!.key)
    : undefined;
  if (text === undefined) return undefined;
  return { source: rootfsSource(r, text), format, ...(type ? { type } : {}) };
}

/** A path unless it reads as an image reference (`alpine:3.20`, `127.0.0.1:5000/base`). */
function rootfsSource(r: Reader, text: string): string {
  const path = isAbsolute(text) ? text : resolve(r.dir, text);
  if (looksLikePath(text) || r.host.isDirectory(path)) return path;
  const first = text.split("/")[0]!;
  const isRef = text.includes(":") || (text.includes("/") && /[.:]/.test(first)) || first === "localhost";
  return isRef ? text : path;
}

/** `volumes:` — `src:dst[:ro|rw]` strings or `{driver, source, destination, readonly}`. */
export function readVolumes(r: Reader, node: Node | null, keyNode: Node): Volume[] {
  if (r.isNull(node)) return [];
  const items = isSeq(node) ? node.items.map((i) => r.deref(i)) : isScalar(node) ? [node] : undefined;
  if (!items) {
    r.sink.error("invalid-type", node ?? keyNode, `\`volumes\` must be a list, got ${r.describe(node)}`);
    return [];
  }
  const out: Volume[] = [];
  items.forEach((item, i) => {
    const where = `volume ${i + 1}`;
    const v = isMap(item) ? volumeFromMap(r, item, where) : volumeFromString(r, item, where, node ?? keyNode);
    if (!v) return;
    if (!v.destination.startsWith("/")) {
      r.sink.error(
        "invalid-volume",
        item,
        `${where} destination must be an absolute path in the guest, got \`${v.destination}\``,
      );
      return;
    }
    out.push({ ...v, source: isAbsolute(v.source) ? v.source : resolve(r.dir, v.source) });
  });
  return out;
}

function volumeFromString(r: Reader, item: Node | null, where: string, at: Node): Volume | undefined {
  const text = r.string(item, where, at);
  if (text === undefined) return undefined;
  const parts = text.split(":");
  if (parts.length > 3 || parts[0] === "" || (parts.length >= 2 && parts[1] === "")) {
    r.sink.error("invalid-volume", item, `${where} must be \`source:destination[:ro]\`, got \`${text}\``);
    return undefined;
  }
  const mode = parts[2];
  if (mode !== undefined && mode !== "ro" && mode !== "rw") {
    r.sink.error("invalid-volume", item, `${where} mode must be \`ro\` or \`rw\`, got \`${mode}\``);
    return undefined;
  }
  if (parts.length === 1) {
    // KraftKit's `volume.TransformFromSchema`: "When no colon is specified,
    // assume the root file system" (destination `/`). Kiln keeps that
    // meaning but says so, since `- ./data` more often means a forgotten
    // `:/data` than "replace the guest's root".
    r.sink.warn(
      "volume-at-root",
      item,
      `${where} \`${text}\` has no \`:destination\`; it is mounted at \`/\`, the guest's root filesystem (as KraftKit does)`,
      `write \`${text}:/\` to mean that, or \`${text}:/data\` to mount it elsewhere`,
    );
  }
  return { source: parts[0]!, destination: parts[1] ?? "/", readonly: mode === "ro" };
}

function volumeFromMap(r: Reader, item: Node, where: string): Volume | undefined {
  const p = r.pairs(item, ["driver", "source", "destination", "readonly", "mode"], where);
  const get = (k: string) =>
    p.has(k) ? r.string(r.value(p.get(k)), `${where} ${k}`, p.get(k)!.key) : undefined;
  const source = get("source");
  const destination = get("destination");
  const driver = get("driver");
  let readonly = false;
  if (p.has("readonly")) {
    const ro = r.value(p.get("readonly"));
    if (isScalar(ro) && typeof ro.value === "boolean") readonly = ro.value;
    else
      r.sink.error(
        "invalid-type",
        ro ?? p.get("readonly")!.key,
        `${where} readonly must be true or false, got ${r.describe(ro)}`,
      );
  }
  if (!p.has("source")) r.sink.error("missing-required", item, `${where} has no \`source\``);
  if (!p.has("destination")) r.sink.error("missing-required", item, `${where} has no \`destination\``);
  if (source === undefined || destination === undefined) return undefined;
  return { source, destination, readonly, ...(driver ? { driver } : {}) };
}

/**
 * `cmd:` (or a v0.5 target's `command:`, named by `what`) — a list of
 * arguments, or a string split into words as a shell would (KraftKit uses
 * shellwords).
 */
export function readCmd(r: Reader, node: Node | null, keyNode: Node, what = "`cmd`"): string[] {
  if (r.isNull(node)) return [];
  if (isSeq(node)) {
    const out: string[] = [];
    for (const raw of node.items) {
      const s = r.string(r.deref(raw), `${what} arguments`, node);
      if (s !== undefined) out.push(s);
    }
    return out;
  }
  if (isScalar(node)) {
    const text = r.string(node, what, keyNode);
    if (text === undefined) return [];
    const { words, error } = splitShellWords(text);
    if (error) {
      const start = (node.range?.[0] ?? 0) + (node.type === Scalar.PLAIN ? 0 : 1);
      r.sink.addAt("error", "invalid-cmd", start + error.index, error.message, error.hint);
    }
    return words;
  }
  r.sink.error(
    "invalid-type",
    node,
    `${what} must be a list of arguments or a command string, got ${r.describe(node)}`,
  );
  return [];
}
