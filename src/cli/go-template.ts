/**
 * docker's `--format` templates, the subset scripts use: `{{.Field}}`,
 * `{{.A.B}}`, `{{json .}}` / `{{json .Field}}`, `\t` and `\n` escapes, and a
 * leading `table ` that prints a header row (the field names in upper case)
 * and aligns columns as docker's tabwriter does. Pure: template and rows in,
 * text out. Anything else is an error naming what is unsupported.
 */
import { usageError } from "../core/errors.js";

type Row = Record<string, unknown>;

interface Part {
  text?: string;
  path?: string[];
  json?: boolean;
}

function parse(template: string): Part[] {
  const parts: Part[] = [];
  const re = /\{\{\s*(.*?)\s*\}\}/g;
  let last = 0;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    if (m.index > last) parts.push({ text: template.slice(last, m.index) });
    last = m.index + m[0].length;
    const action = /^(json\s+)?\.([A-Za-z_][\w.]*)?$/.exec(m[1]!);
    if (!action) {
      throw usageError(
        `--format: "{{${m[1]}}}" is not supported`,
        "Kiln's templates take {{.Field}}, {{json .}}, {{json .Field}} and a leading 'table '",
      );
    }
    parts.push({ path: action[2] ? action[2].split(".") : [], json: action[1] !== undefined });
  }
  if (last < template.length) parts.push({ text: template.slice(last) });
  return parts;
}

function lookup(row: Row, path: string[]): unknown {
  let v: unknown = row;
  for (const key of path) {
    if (v === null || typeof v !== "object" || !(key in (v as Row))) {
      throw usageError(
        `--format: no field .${path.join(".")} (fields: ${Object.keys(row)
          .map((k) => `.${k}`)
          .join(" ")})`,
      );
    }
    v = (v as Row)[key];
  }
  return v;
}

function show(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** Render `template` for each row, one line each (a `table` template adds its header and aligns). */
export function renderTemplate(template: string, rows: readonly Row[]): string {
  const table = /^table\s+/.test(template);
  const body = template
    .replace(/^table\s+/, "")
    .replace(/\\t/g, "\t")
    .replace(/\\n/g, "\n");
  const parts = parse(body);
  const render = (row: Row) =>
    parts
      .map((p) =>
        p.text !== undefined
          ? p.text
          : p.json
            ? JSON.stringify(lookup(row, p.path!) ?? null)
            : show(lookup(row, p.path!)),
      )
      .join("");
  const lines = rows.map(render);
  if (!table) return lines.map((l) => `${l}\n`).join("");
  const header = parts
    .map((p) => (p.text !== undefined ? p.text : (p.path!.at(-1) ?? "").toUpperCase()))
    .join("");
  // docker's tabwriter: cells separated by tabs, padded to the widest cell plus three spaces.
  const cells = [header, ...lines].map((l) => l.split("\t"));
  const widths: number[] = [];
  for (const c of cells) {
    c.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return cells
    .map((c) =>
      c
        .map((cell, i) => (i === c.length - 1 ? cell : cell.padEnd(widths[i]! + 3)))
        .join("")
        .trimEnd(),
    )
    .map((l) => `${l}\n`)
    .join("");
}
