/**
 * The typed view over a Kraftfile's YAML nodes used while normalizing: it
 * turns nodes into strings (with `${VAR}` interpolation), maps and lists,
 * and reports every mismatch to the {@link DiagnosticSink} instead of
 * throwing, so one pass finds all problems.
 */
import { type Document, isAlias, isMap, isPair, isScalar, isSeq, type Node, type Pair, Scalar } from "yaml";
import { type DiagnosticSink, didYouMean } from "./diagnostics.js";
import { interpolate } from "./text.js";
import type { KconfigMap } from "./types.js";

/** What the parser may ask of the outside world (passed in, so parsing stays pure). */
export interface ParseHost {
  env: Record<string, string | undefined>;
  isDirectory(path: string): boolean;
}

const KCONFIG_NAME = /^CONFIG_[A-Z0-9_]+$/;

/**
 * A value as a `.config` line needs it: `y`/`n`/`m`, decimal and hex numbers
 * and already-quoted strings stay as they are; anything else is a string and
 * becomes a Kconfig string literal. The Unikraft catalog writes string
 * options as YAML strings (`CONFIG_LIBVFSCORE_AUTOMOUNT_FB0_DEV: "embedded"`);
 * passed through unquoted (as KraftKit's `KeyValue.String` does), Kconfig
 * would drop them, since a string symbol's value must be quoted in `.config`.
 */
export function kconfigValue(v: string): string {
  if (/^[ynm]$/.test(v) || /^-?\d+$/.test(v) || /^0x[0-9a-f]+$/i.test(v) || /^"(?:[^"\\]|\\.)*"$/s.test(v))
    return v;
  return `"${v.replace(/[\\"]/g, "\\$&")}"`;
}

export class Reader {
  constructor(
    readonly sink: DiagnosticSink,
    readonly doc: Document,
    readonly host: ParseHost,
    /** The Kraftfile's directory (absolute): relative paths resolve against it. */
    readonly dir: string,
    private readonly text: string,
  ) {}

  /** Follow a YAML alias (`*anchor`) to the node it names. */
  deref(node: unknown): Node | null {
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return (node as Node | null | undefined) ?? null;
  }

  /** "a list", "a mapping", "a string (`x`)", … for messages. */
  describe(node: Node | null): string {
    if (node === null || (isScalar(node) && node.value === null)) return "nothing (null)";
    if (isMap(node)) return "a mapping";
    if (isSeq(node)) return "a list";
    if (isScalar(node)) {
      const v = node.value;
      const kind = typeof v === "number" ? "a number" : typeof v === "boolean" ? "a boolean" : "a string";
      return `${kind} (\`${this.raw(node)}\`)`;
    }
    return "an unsupported YAML node";
  }

  /** A scalar as written: numbers keep their spelling (`0x400000000`, `0.10`). */
  raw(node: Scalar): string {
    if (node.type === Scalar.PLAIN && node.range && typeof node.value !== "string") {
      return this.text.slice(node.range[0], node.range[1]).trim();
    }
    return String(node.value);
  }

  isNull(node: Node | null): boolean {
    return node === null || (isScalar(node) && node.value === null);
  }

  /**
   * A scalar as a string with `${VAR}` interpolation. Numbers and booleans
   * are accepted as written (YAML reads `version: 0.10` as a number).
   * Reports and returns undefined for lists, mappings and null.
   */
  string(node: Node | null, what: string, at?: Node | null): string | undefined {
    if (node === null || !isScalar(node) || node.value === null) {
      this.sink.error("invalid-type", node ?? at, `${what} must be a string, got ${this.describe(node)}`);
      return undefined;
    }
    if (typeof node.value !== "string") return this.raw(node);
    return this.interpolated(node);
  }

  /** Interpolate a string scalar's value, warning about unset variables. */
  interpolated(node: Scalar): string {
    const value = String(node.value);
    if (!value.includes("$")) return value;
    const start = (node.range?.[0] ?? 0) + (node.type === Scalar.PLAIN ? 0 : 1);
    const r = interpolate(value, this.host.env);
    for (const u of r.unset) {
      this.sink.addAt(
        "warning",
        "unset-variable",
        start + u.index,
        `variable \`${u.name}\` is not set; using an empty string`,
        `set it in the environment or give a default: \${${u.name}:-default}`,
      );
    }
    if (r.error) {
      this.sink.addAt("error", "invalid-interpolation", start + r.error.index, r.error.message, r.error.hint);
    }
    return r.value;
  }

  /**
   * The pairs of a mapping keyed by name, warning about keys not in `known`
   * (with the nearest known key); `x-*` extension keys are accepted silently.
   * Later duplicates win (duplicates are reported separately).
   */
  pairs(node: Node | null, known: readonly string[], where: string): Map<string, Pair<Node, Node | null>> {
    const out = new Map<string, Pair<Node, Node | null>>();
    if (!isMap(node)) return out;
    for (const item of node.items) {
      if (!isPair(item)) continue;
      const key = item.key as Node | null;
      if (!isScalar(key) || key.value === null || typeof key.value === "object") {
        this.sink.error(
          "invalid-key",
          key,
          `keys in ${where} must be plain names, got ${this.describe(key)}`,
        );
        continue;
      }
      const name = String(key.value);
      if (!known.includes(name) && !name.startsWith("x-")) {
        this.sink.warn(
          "unknown-key",
          key,
          `unknown key \`${name}\` in ${where}${didYouMean(name, known)}`,
          `known keys here: ${known.join(", ")}; extension keys start with \`x-\``,
        );
      }
      out.set(name, item as Pair<Node, Node | null>);
    }
    return out;
  }

  /** The value node of a pair, with aliases followed. */
  value(pair: Pair<Node, Node | null> | undefined): Node | null {
    return pair ? this.deref(pair.value) : null;
  }

  /**
   * `kconfig:` as a mapping (`CONFIG_X: y`) or a list (`- CONFIG_X=y`), as
   * KraftKit's `NewKeyValueMapFromMap`/`FromSlice` read them. Mapping values
   * are the YAML value (YAML quotes go; booleans become `y`/`n`; numbers keep
   * their spelling); list values are the text after `=` (`CONFIG_X="initrd"`
   * keeps its quotes, as a .config line would). Either way strings end up as
   * Kconfig string literals ({@link kconfigValue}).
   * Names must be `CONFIG_[A-Z0-9_]+`: KraftKit passes other keys through to
   * .config where Kconfig silently ignores them, so Kiln rejects them.
   */
  kconfig(node: Node | null, where: string): KconfigMap {
    const out: KconfigMap = {};
    const seen = new Map<string, { value: string; line: number }>();
    const put = (name: string, value: string, at: Node) => {
      const line = this.sink.position(at.range?.[0] ?? 0).line;
      const prev = seen.get(name);
      // Mapping duplicates are duplicate YAML keys, reported once by the parser.
      if (isMap(node)) {
        // nothing more to check
      } else if (prev && prev.value !== value) {
        this.sink.error(
          "duplicate-kconfig",
          at,
          `kconfig option \`${name}\` is set twice in ${where} with different values: \`${prev.value}\` (line ${prev.line}) and \`${value}\``,
          "keep one of them",
        );
      } else if (prev) {
        this.sink.warn(
          "duplicate-kconfig",
          at,
          `kconfig option \`${name}\` is repeated in ${where} with the same value \`${value}\` (first on line ${prev.line})`,
          "remove the repeated line",
        );
      }
      if (!prev) seen.set(name, { value, line });
      out[name] = value;
    };
    const checkName = (name: string, at: Node): boolean => {
      if (KCONFIG_NAME.test(name)) return true;
      const upper = name.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
      const fix = upper.startsWith("CONFIG_") ? upper : `CONFIG_${upper}`;
      this.sink.error(
        "invalid-kconfig",
        at,
        `kconfig option names must match CONFIG_[A-Z0-9_]+, got \`${name}\` in ${where}`,
        `did you mean \`${fix}\`?`,
      );
      return false;
    };
    if (this.isNull(node)) return out;
    if (isMap(node)) {
      for (const item of node.items) {
        const key = item.key as Node | null;
        if (!isScalar(key) || key.value === null) {
          this.sink.error("invalid-kconfig", key, `kconfig keys in ${where} must be option names`);
          continue;
        }
        const name = String(key.value);
        if (!checkName(name, key)) continue;
        const v = this.deref(item.value);
        if (this.isNull(v) || !isScalar(v)) {
          this.sink.error(
            "invalid-kconfig",
            v && !this.isNull(v) ? v : key,
            `kconfig option \`${name}\` in ${where} needs a single value (y, n, a number or a string), got ${this.describe(v)}`,
          );
          continue;
        }
        const value =
          typeof v.value === "boolean"
            ? v.value
              ? "y"
              : "n"
            : typeof v.value === "string"
              ? this.interpolated(v)
              : this.raw(v);
        put(name, kconfigValue(value), key);
      }
      return out;
    }
    if (isSeq(node)) {
      for (const raw of node.items) {
        const item = this.deref(raw);
        if (!isScalar(item) || typeof item.value !== "string") {
          this.sink.error(
            "invalid-kconfig",
            item ?? node,
            `kconfig list entries in ${where} must be strings \`CONFIG_NAME=value\`, got ${this.describe(item)}`,
          );
          continue;
        }
        const text = this.interpolated(item);
        const eq = text.indexOf("=");
        if (eq === -1 || eq === text.length - 1) {
          this.sink.error(
            "invalid-kconfig",
            item,
            `kconfig entries must be \`CONFIG_NAME=value\`, got \`${text}\` in ${where}`,
            eq === -1
              ? `write \`${text}=y\` to enable it`
              : "give a value after `=` (y, n, a number or a string)",
          );
          continue;
        }
        const name = text.slice(0, eq).trim();
        if (!checkName(name, item)) continue;
        put(name, kconfigValue(text.slice(eq + 1).trim()), item);
      }
      return out;
    }
    this.sink.error(
      "invalid-type",
      node,
      `kconfig in ${where} must be a mapping (CONFIG_X: y) or a list (- CONFIG_X=y), got ${this.describe(node)}`,
    );
    return out;
  }

  /**
   * A `list_or_dict` (KraftKit's schema term) of strings: a mapping
   * `KEY: value` or a list of `KEY=value` (`env:`, `labels:`). A list entry
   * without `=` maps to "" as KraftKit's `transformEnv` does.
   */
  dict(node: Node | null, what: string, names?: { pattern: RegExp; rule: string }): Record<string, string> {
    const out: Record<string, string> = {};
    if (this.isNull(node)) return out;
    // Keys that must be names of a kind (environment variables: issue 9), checked, not coerced.
    const badName = (key: string, at: Node | null | undefined): boolean => {
      if (!names || names.pattern.test(key)) return false;
      this.sink.error("invalid-key", at ?? node, `\`${what}\` key \`${key}\` is not ${names.rule}`);
      return true;
    };
    if (isMap(node)) {
      for (const item of node.items) {
        const key = item.key as Node | null;
        if (!isScalar(key) || key.value === null || String(key.value) === "") {
          this.sink.error("invalid-key", key, `keys in \`${what}\` must be names, got ${this.describe(key)}`);
          continue;
        }
        if (badName(String(key.value), key)) continue;
        const v = this.deref(item.value);
        if (this.isNull(v)) out[String(key.value)] = "";
        else if (isScalar(v))
          out[String(key.value)] = typeof v.value === "string" ? this.interpolated(v) : this.raw(v);
        else
          this.sink.error(
            "invalid-type",
            v,
            `\`${what}.${key.value}\` must be a string, got ${this.describe(v)}`,
          );
      }
      return out;
    }
    if (isSeq(node)) {
      const lines = new Map<string, number>();
      for (const raw of node.items) {
        const item = this.deref(raw);
        const text = this.string(item, `entries of \`${what}\``, node);
        if (text === undefined) continue;
        const eq = text.indexOf("=");
        const key = eq === -1 ? text : text.slice(0, eq);
        if (key === "") {
          this.sink.error(
            "invalid-entry",
            item,
            `entries of \`${what}\` must be \`KEY=value\`, got \`${text}\``,
          );
          continue;
        }
        if (badName(key, item)) continue;
        const value = eq === -1 ? "" : text.slice(eq + 1);
        const line = this.sink.position(item?.range?.[0] ?? 0).line;
        const prev = lines.get(key);
        // A warning, not an error: KraftKit folds the list into a map where
        // the last entry wins (docker-compose's env lists behave the same),
        // so such files do load there; Kiln keeps that result but says so.
        if (prev !== undefined && out[key] !== value) {
          this.sink.warn(
            "duplicate-entry",
            item,
            `\`${what}\` sets \`${key}\` twice: \`${out[key]}\` on line ${prev} and \`${value}\` on line ${line}; the last one wins`,
            "keep only the one you mean",
          );
        } else if (prev !== undefined) {
          this.sink.warn(
            "duplicate-entry",
            item,
            `\`${what}\` sets \`${key}\` twice to the same value \`${value}\` (lines ${prev} and ${line})`,
            "remove the repeated entry",
          );
        }
        lines.set(key, line);
        out[key] = value;
      }
      return out;
    }
    this.sink.error(
      "invalid-type",
      node,
      `\`${what}\` must be a mapping (KEY: value) or a list (- KEY=value), got ${this.describe(node)}`,
    );
    return out;
  }
}
