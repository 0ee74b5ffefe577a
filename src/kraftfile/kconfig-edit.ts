/**
 * The Kraftfile's `kconfig:` entries as text, pure: where each one is written
 * (core, a library, a target; the line), and writing values back into the
 * right `kconfig:` with the yaml library's document model, which keeps
 * comments, key order and the rest of the layout (what `kiln config set
 * --save` and the menu's Kraftfile save do; KraftKit's `kraft set` edits the
 * Kraftfile the same way, through its yaml model).
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument, Scalar, YAMLMap } from "yaml";
import { KilnError } from "../core/errors.js";

/** A `kconfig:` block of the Kraftfile. */
export type KconfigScope =
  | { kind: "core" }
  | { kind: "library"; name: string }
  /** The target at this position of `targets:`. */
  | { kind: "target"; index: number };

/** One entry of a `kconfig:` block. */
export interface KconfigEntryLocation {
  scope: KconfigScope;
  /** `CONFIG_X`. */
  symbol: string;
  /** The value as written (after `=` or `:`). */
  value: string;
  /** 1-based line in the Kraftfile. */
  line: number;
}

type Path = (string | number)[];

/** The YAML path of a scope's `kconfig:` (`["unikraft","kconfig"]`, …). */
function scopePath(scope: KconfigScope): Path {
  if (scope.kind === "core") return ["unikraft", "kconfig"];
  if (scope.kind === "library") return ["libraries", scope.name, "kconfig"];
  return ["targets", scope.index, "kconfig"];
}

function scopes(doc: ReturnType<typeof parseDocument>): KconfigScope[] {
  const out: KconfigScope[] = [{ kind: "core" }];
  const libs = doc.get("libraries", true);
  if (isMap(libs))
    for (const p of libs.items) if (isScalar(p.key)) out.push({ kind: "library", name: String(p.key.value) });
  const targets = doc.get("targets", true);
  if (isSeq(targets))
    for (let index = 0; index < targets.items.length; index++) out.push({ kind: "target", index });
  return out;
}

/** Every `kconfig:` entry of a Kraftfile text, with its scope and line. */
export function locateKconfigEntries(text: string): KconfigEntryLocation[] {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, keepSourceTokens: false });
  const lineOf = (n: Node | null | undefined) => (n?.range ? lc.linePos(n.range[0]).line : 0);
  const out: KconfigEntryLocation[] = [];
  for (const scope of scopes(doc)) {
    const k = doc.getIn(scopePath(scope), true) as Node | undefined;
    if (isMap(k)) {
      for (const p of k.items) {
        if (!isScalar(p.key)) continue;
        const v = isScalar(p.value) ? String(p.value.value) : "";
        out.push({ scope, symbol: String(p.key.value), value: v, line: lineOf(p.key as Node) });
      }
    } else if (isSeq(k)) {
      for (const item of k.items) {
        if (!isScalar(item)) continue;
        const t = String(item.value);
        const eq = t.indexOf("=");
        if (eq <= 0) continue;
        out.push({ scope, symbol: t.slice(0, eq).trim(), value: t.slice(eq + 1).trim(), line: lineOf(item) });
      }
    }
  }
  return out;
}

/**
 * A Kconfig value as the Kraftfile writes it: string literals without their
 * Kconfig quotes, decimal numbers as YAML numbers (written plain, as users do).
 */
function yamlValue(v: string): string | number {
  const m = /^"((?:[^"\\]|\\.)*)"$/.exec(v);
  if (m) return (m[1] as string).replace(/\\(.)/g, "$1");
  if (/^-?(0|[1-9]\d{0,14})$/.test(v)) return Number(v);
  return v;
}

/**
 * Writes `values` (`CONFIG_X` → value; undefined removes the entry) into
 * the scope's `kconfig:` of a Kraftfile text and returns the new text. An
 * entry already written in the scope keeps its place; new ones go last, in
 * the block's style (mapping or list). A `unikraft: stable` scalar becomes
 * `{version: stable, kconfig: …}` and a `qemu/x86_64` target a mapping.
 */
export function saveKconfigEntries(
  text: string,
  scope: KconfigScope,
  values: Record<string, string | undefined>,
): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new KilnError("KRAFTFILE_INVALID", `cannot edit the Kraftfile: ${doc.errors[0]?.message ?? ""}`);
  }
  const path = scopePath(scope);
  const owner = path.slice(0, -1);
  let parent = doc.getIn(owner, true) as Node | undefined;
  const needsWrite = Object.values(values).some((v) => v !== undefined);
  if (!isMap(parent)) {
    if (!needsWrite) return text;
    if (scope.kind === "library" && parent === undefined) {
      throw new KilnError("KRAFTFILE_EDIT", `the Kraftfile has no library ${scope.name}`);
    }
    const m = new YAMLMap();
    // the scalar's own comment (`- qemu/x86_64  # the one we run`) stays with the entry
    if (isScalar(parent) && parent.comment) m.commentBefore = parent.comment;
    if (isScalar(parent) && parent.value !== null && parent.value !== "") {
      const t = String(parent.value);
      if (scope.kind === "target") {
        const [plat, arch] = t.split("/");
        m.set("platform", plat);
        m.set("architecture", arch);
      } else m.set("version", t);
    }
    doc.setIn(owner, m);
    parent = m;
  }
  let block = (parent as YAMLMap).get("kconfig", true) as Node | undefined;
  if (!isMap(block) && !isSeq(block)) {
    if (!needsWrite) return text;
    block = new YAMLMap();
    (parent as YAMLMap).set("kconfig", block);
  }
  for (const [sym, value] of Object.entries(values)) {
    if (isMap(block)) {
      const idx = block.items.findIndex((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === sym);
      if (value === undefined) {
        if (idx >= 0) block.items.splice(idx, 1);
      } else if (idx >= 0) {
        const pair = block.items[idx]!;
        if (isScalar(pair.value)) pair.value.value = yamlValue(value);
        else pair.value = new Scalar(yamlValue(value));
      } else block.set(sym, yamlValue(value));
    } else if (isSeq(block)) {
      const idx = block.items.findIndex((i) => isScalar(i) && String(i.value).split("=")[0]?.trim() === sym);
      if (value === undefined) {
        if (idx >= 0) block.items.splice(idx, 1);
      } else if (idx >= 0) (block.items[idx] as Scalar).value = `${sym}=${value}`;
      else block.add(`${sym}=${value}`);
    }
  }
  return doc.toString();
}
