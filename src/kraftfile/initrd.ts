/**
 * A spec v0.5 target's `initrd:` (KraftKit's schema v0.5
 * `definitions.initrd`: `{output, compress, format, input}`), normalized to
 * a {@link TargetInitrd}. The meanings follow KraftKit's v0.5-era
 * `initrd.InitrdConfig`: `input` entries are `host:archive` pairs
 * (`InitrdConfig.Files` splits them on `:`; `--initrd DIR` means `DIR:/`),
 * `format` names a CPIO format of which only `newc` can be written, and the
 * string short form `DIR[:OUTPUT]` is `ParseInitrdConfig`'s.
 */
import { isAbsolute, resolve } from "node:path";
import { isMap, isScalar, isSeq, type Node } from "yaml";
import type { Reader } from "./reader.js";
import type { InitrdInput, TargetInitrd } from "./types.js";

const KEYS = ["input", "output", "format", "compress"] as const;

/** `newc` is KraftKit's default and only writable format; Kiln's CPIO writer writes it too. */
const CPIO_NAMES = ["newc", "cpio"];

/** `initrd:` of target `where` (e.g. `target 1`). Reports problems and returns what it could read. */
export function readInitrd(
  r: Reader,
  node: Node | null,
  keyNode: Node,
  where: string,
): TargetInitrd | undefined {
  const what = `${where} \`initrd\``;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(r.dir, p));
  if (isScalar(node) && node.value !== null) {
    const text = r.string(node, what, keyNode);
    if (text === undefined) return undefined;
    const parts = text.split(":");
    if (parts.length > 2 || parts.some((x) => x === "")) {
      r.sink.error(
        "invalid-initrd",
        node,
        `${what} must be \`DIR\` or \`DIR:OUTPUT\` (a directory to pack, optionally the archive to write), got \`${text}\``,
        "or write a mapping: {input: [./rootfs], output: ./initrd.cpio}",
      );
      return undefined;
    }
    return {
      inputs: [{ source: abs(parts[0]!), destination: "/" }],
      ...(parts[1] !== undefined ? { output: abs(parts[1]) } : {}),
      format: "cpio",
      compress: false,
    };
  }
  if (!isMap(node)) {
    r.sink.error(
      "invalid-type",
      node ?? keyNode,
      `${what} must be a mapping {input, output, format, compress} or a directory, got ${r.describe(node)}`,
    );
    return undefined;
  }
  const p = r.pairs(node, KEYS, what);
  const inputs = p.has("input") ? readInputs(r, r.value(p.get("input")), p.get("input")!.key, what, abs) : [];
  if (!p.has("input")) {
    r.sink.error("missing-required", node, `${what} has no \`input\``, "add e.g. `input: [./rootfs]`");
  }
  let output: string | undefined;
  if (p.has("output")) {
    const o = r.string(r.value(p.get("output")), `${what} output`, p.get("output")!.key);
    if (o) output = abs(o);
  }
  if (p.has("format")) {
    const fNode = r.value(p.get("format"));
    const f = r.string(fNode, `${what} format`, p.get("format")!.key);
    if (f !== undefined && !CPIO_NAMES.includes(f)) {
      r.sink.error(
        "invalid-value",
        fNode,
        `${what} format must be \`newc\` (or \`cpio\`), got \`${f}\`; KraftKit writes no other CPIO format`,
        "remove `format` (newc is the default); for EROFS use the top-level `rootfs` with `format: erofs` (spec v0.6)",
      );
    }
  }
  let compress = false;
  if (p.has("compress")) {
    const c = r.value(p.get("compress"));
    if (isScalar(c) && typeof c.value === "boolean") compress = c.value;
    else
      r.sink.error(
        "invalid-type",
        c ?? p.get("compress")!.key,
        `${what} compress must be true or false, got ${r.describe(c)}`,
        "write `compress: true` or `compress: false` (YAML reads `yes` as a string)",
      );
  }
  return { inputs, ...(output ? { output } : {}), format: "cpio", compress };
}

/** `input:` — a list of `host[:archive]` strings, or a mapping `host: archive` (the schema's list_or_dict). */
function readInputs(
  r: Reader,
  node: Node | null,
  keyNode: Node,
  what: string,
  abs: (p: string) => string,
): InitrdInput[] {
  const out: InitrdInput[] = [];
  // KraftKit's `InitrdConfig.Files` splits each entry on `:` into host and archive paths.
  const add = (text: string, at: Node, archiveOf?: string) => {
    const parts = archiveOf === undefined ? text.split(":") : [text, archiveOf];
    const host = parts[0]!;
    const destination = parts[1] === undefined || parts[1] === "" ? "/" : parts[1];
    if (parts.length > 2 || host === "" || !destination.startsWith("/")) {
      const seen = archiveOf === undefined ? text : `${text}: ${archiveOf}`;
      r.sink.error(
        "invalid-initrd",
        at,
        `${what} input entries must be \`HOST_PATH[:/PATH_IN_ARCHIVE]\`, got \`${seen}\``,
        "e.g. `./rootfs` (packed at /) or `./etc:/etc`",
      );
      return;
    }
    out.push({ source: abs(host), destination });
  };
  if (isSeq(node)) {
    for (const raw of node.items) {
      const item = r.deref(raw);
      const text = r.string(item, `${what} input entries`, node);
      if (text !== undefined) add(text, item ?? node);
    }
    if (node.items.length === 0) r.sink.error("missing-required", node, `${what} \`input\` is empty`);
    return out;
  }
  if (isMap(node)) {
    const dict = r.dict(node, "initrd.input");
    for (const [host, archive] of Object.entries(dict)) add(host, node, archive);
    return out;
  }
  if (isScalar(node) && typeof node.value === "string") {
    const text = r.string(node, `${what} input`, keyNode);
    if (text !== undefined) add(text, node);
    return out;
  }
  r.sink.error(
    "invalid-type",
    node ?? keyNode,
    `${what} input must be a list of paths (e.g. \`[./rootfs]\`), got ${r.describe(node)}`,
  );
  return out;
}
