/**
 * Kconfig's lexer (scripts/kconfig/lexer.l), one logical line at a time so
 * that macro expansion sees the variables assigned on earlier lines, as the
 * C lexer does. Words containing `$(…)` are expanded into one word; `$(…)`
 * inside quotes expands into the string; help text is read by indentation.
 */
import { KilnError } from "../core/errors.js";
import type { Preprocessor } from "./macro.js";

export const KEYWORDS = new Set([
  "bool",
  "choice",
  "comment",
  "config",
  "def_bool",
  "def_tristate",
  "default",
  "depends",
  "endchoice",
  "endif",
  "endmenu",
  "help",
  "hex",
  "if",
  "imply",
  "int",
  "mainmenu",
  "menu",
  "menuconfig",
  "modules",
  "on",
  "optional",
  "prompt",
  "range",
  "select",
  "source",
  "rsource",
  "osource",
  "orsource",
  "string",
  "tristate",
  "visible",
]);

/** A token: `t` is a keyword, an operator, `word`, `str` (quoted) or `value` (assignment). */
export interface Token {
  t: string;
  v: string;
  col: number;
}

/** One logical line of tokens. */
export interface Line {
  tokens: Token[];
  line: number;
  text: string;
}

const OPS = ["||", "&&", "!=", "<=", ">=", ":=", "+=", "=", "<", ">", "!", "(", ")"];

function isWordChar(c: string | undefined): boolean {
  if (c === undefined) return false;
  const k = c.charCodeAt(0);
  return (k >= 48 && k <= 57) || (k >= 65 && k <= 90) || (k >= 97 && k <= 122) || k === 95 || k === 45;
}

/** Lexes one Kconfig file; the parser pulls lines and help blocks. */
export class FileLexer {
  private readonly lines: string[];
  private idx = 0;
  readonly warnings: string[] = [];

  constructor(
    readonly file: string,
    text: string,
    private readonly pre: Preprocessor,
  ) {
    this.lines = text.split("\n");
    if (this.lines.length > 0 && this.lines[this.lines.length - 1] === "") this.lines.pop();
  }

  /** The next non-empty logical line, or undefined at end of file. */
  next(): Line | undefined {
    while (this.idx < this.lines.length) {
      const first = this.idx + 1;
      let text = this.lines[this.idx++] ?? "";
      while (text.endsWith("\\") && this.idx < this.lines.length) {
        text = text.slice(0, -1) + (this.lines[this.idx++] ?? "");
      }
      this.pre.file = this.file;
      this.pre.line = first;
      const tokens = this.lexLine(text, first);
      if (tokens.length > 0) return { tokens, line: first, text };
    }
    return undefined;
  }

  /**
   * Reads a help block after a `help` line (lexer.l's HELP state): the first
   * text line's indentation is the block's; a line indented less ends it.
   */
  help(): string {
    let firstTs = 0;
    let out = "";
    while (this.idx < this.lines.length) {
      const raw = this.lines[this.idx] ?? "";
      const m = /^[ \t]*/.exec(raw);
      const ws = m ? m[0] : "";
      const rest = raw.slice(ws.length).replace(/[ \t]+$/, "");
      if (rest === "") {
        // blank line: part of the help unless the next text line ends it
        out += "\n";
        this.idx++;
        continue;
      }
      let ts = 0;
      for (const ch of ws) ts = ch === "\t" ? (ts & ~7) + 8 : ts + 1;
      if (ts === 0 || (firstTs && ts < firstTs)) break;
      if (!firstTs) firstTs = ts;
      out += " ".repeat(ts - firstTs) + rest + "\n";
      this.idx++;
    }
    // trailing blank lines belong to no help text
    return out.replace(/\n+$/, "\n").replace(/^\n+/, "");
  }

  private error(message: string, line: number, col: number, text: string): KilnError {
    return new KilnError("KCONFIG_SYNTAX", `${this.file}:${line}:${col}: ${message}`, {
      location: { file: this.file, line, col },
      details: [text],
    });
  }

  private lexLine(text: string, line: number): Token[] {
    const tokens: Token[] = [];
    let i = 0;
    const n = text.length;
    while (i < n) {
      const c = text[i] as string;
      if (c === " " || c === "\t" || c === "\r") {
        i++;
        continue;
      }
      if (c === "#") break;
      const col = i + 1;
      // assignment: WORD op at the start of a line; the rest is the raw value
      if (
        tokens.length === 2 &&
        tokens[0]?.t === "word" &&
        (tokens[1]?.t === "=" || tokens[1]?.t === ":=" || tokens[1]?.t === "+=")
      ) {
        tokens.push({ t: "value", v: text.slice(i), col });
        break;
      }
      if (c === '"' || c === "'") {
        let s = "";
        let j = i + 1;
        let closed = false;
        while (j < n) {
          const d = text[j] as string;
          if (d === c) {
            closed = true;
            j++;
            break;
          }
          if (d === "\\") {
            s += text[j + 1] ?? "";
            j += 2;
            continue;
          }
          if (d === "$") {
            const r = this.pre.expandDollar(text, j + 1);
            s += r.value;
            j = r.end;
            continue;
          }
          s += d;
          j++;
        }
        if (!closed) this.warnings.push(`${this.file}:${line}:warning: multi-line strings not supported`);
        tokens.push({ t: "str", v: s, col });
        i = j;
        continue;
      }
      if (isWordChar(c) || c === "$") {
        let j = i;
        let hasDollar = false;
        while (j < n && (isWordChar(text[j]) || text[j] === "$")) {
          if (text[j] === "$") hasDollar = true;
          j++;
        }
        if (!hasDollar) {
          const w = text.slice(i, j);
          tokens.push({ t: KEYWORDS.has(w) ? w : "word", v: w, col });
          i = j;
          continue;
        }
        // expand_token(): expand up to the end of the token (after any $(…))
        let s = "";
        j = i;
        while (j < n) {
          const d = text[j] as string;
          if (d === "$") {
            const r = this.pre.expandDollar(text, j + 1);
            s += r.value;
            j = r.end;
          } else if (isWordChar(d)) {
            s += d;
            j++;
          } else break;
        }
        if (s !== "") tokens.push({ t: "word", v: s, col });
        i = j;
        continue;
      }
      const op = OPS.find((o) => text.startsWith(o, i));
      if (op) {
        tokens.push({ t: op, v: op, col });
        i += op.length;
        continue;
      }
      this.warnings.push(`${this.file}:${line}:warning: ignoring unsupported character '${c}'`);
      i++;
    }
    if (tokens.length === 2 && tokens[0]?.t === "word" && ["=", ":=", "+="].includes(tokens[1]?.t ?? "")) {
      tokens.push({ t: "value", v: "", col: n + 1 });
    }
    void this.error;
    return tokens;
  }

  /** Builds a syntax error at a token of a line. */
  syntaxError(message: string, l: Line, col: number): KilnError {
    return this.error(message, l.line, col, l.text);
  }
}
