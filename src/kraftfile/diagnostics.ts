/**
 * Diagnostics for Kraftfiles: collecting them with exact positions while a
 * file is read, and printing them the way compilers do
 * (`path:line:col: error: …`, the source line, a caret, a hint).
 */
import type { LineCounter, Node } from "yaml";
import { styles } from "../core/output.js";
import type { Diagnostic, Severity } from "./types.js";

/** Collects diagnostics for one file; positions come from YAML node ranges. */
export class DiagnosticSink {
  readonly diagnostics: Diagnostic[] = [];
  private readonly lines: string[];

  constructor(
    readonly file: string,
    text: string,
    private readonly lineCounter?: LineCounter,
  ) {
    this.lines = text.split(/\r?\n/);
  }

  /** 1-based line and column of a character offset. */
  position(offset: number): { line: number; col: number } {
    if (!this.lineCounter) return { line: 1, col: 1 };
    return this.lineCounter.linePos(offset);
  }

  /**
   * Record a problem at an offset (0 means the file's start). A position in
   * the blank tail of the file (YAML reports an unclosed `[` or quote at end
   * of input) moves to just after the last line with text, so the message
   * still shows a source line and a caret.
   */
  addAt(severity: Severity, code: string, offset: number, message: string, hint?: string): void {
    let { line, col } = this.position(offset);
    if (!this.lines[line - 1]?.trim()) {
      let last = this.lines.length;
      while (last > 0 && !this.lines[last - 1]!.trim()) last--;
      if (last > 0 && last < line) {
        line = last;
        col = this.lines[last - 1]!.length + 1;
      }
    }
    const sourceLine = this.lines[line - 1];
    this.diagnostics.push({
      severity,
      code,
      message,
      file: this.file,
      line,
      col,
      ...(sourceLine !== undefined && sourceLine.trim() !== "" ? { sourceLine } : {}),
      ...(hint ? { hint } : {}),
    });
  }

  /** Record a problem at a YAML node (its first character), or the file's start without one. */
  add(severity: Severity, code: string, node: Node | null | undefined, message: string, hint?: string): void {
    this.addAt(severity, code, node?.range?.[0] ?? 0, message, hint);
  }

  error(code: string, node: Node | null | undefined, message: string, hint?: string): void {
    this.add("error", code, node, message, hint);
  }

  warn(code: string, node: Node | null | undefined, message: string, hint?: string): void {
    this.add("warning", code, node, message, hint);
  }

  get errorCount(): number {
    return this.diagnostics.filter((d) => d.severity === "error").length;
  }
}

/**
 * `path:line:col: error: message`, the source line with a caret under the
 * column, then `hint: …`. Tabs in the source line are kept under the caret so
 * it lines up in any terminal.
 */
export function formatDiagnostic(d: Diagnostic, opts: { color?: boolean } = {}): string {
  const s = styles(opts.color === true);
  const sev = d.severity === "error" ? s.red("error:") : s.yellow("warning:");
  const out = [`${s.bold(`${d.file}:${d.line}:${d.col}:`)} ${sev} ${d.message}`];
  if (d.sourceLine !== undefined) {
    const gutter = String(d.line);
    const pad = d.sourceLine.slice(0, Math.max(0, d.col - 1)).replace(/[^\t]/g, " ");
    out.push(`${s.dim(`${gutter} |`)} ${d.sourceLine}`);
    out.push(`${s.dim(`${" ".repeat(gutter.length)} |`)} ${pad}${s.green("^")}`);
  }
  if (d.hint) out.push(`${s.cyan("hint:")} ${d.hint}`);
  return out.join("\n");
}

/** "2 errors, 1 warning" (or "no problems"). */
export function countSummary(diagnostics: Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
  if (errors === 0 && warnings === 0) return "no problems";
  return [errors ? plural(errors, "error") : "", warnings ? plural(warnings, "warning") : ""]
    .filter(Boolean)
    .join(", ");
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** The nearest candidate within a small edit distance (case-insensitive), if any. */
export function nearestWord(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDist = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDist) {
      best = c;
      bestDist = d;
    }
  }
  // Allow about one typo per three characters, at least one, at most three.
  const limit = Math.min(3, Math.max(1, Math.floor(w.length / 3)));
  return bestDist <= limit ? best : undefined;
}

/** ` did you mean `x`?` or "". */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const n = nearestWord(word, candidates);
  return n ? `; did you mean \`${n}\`?` : "";
}
