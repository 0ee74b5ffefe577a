/**
 * Kconfig's macro language (Documentation/kbuild/kconfig-macro-language.rst),
 * following scripts/kconfig/preprocess.c: recursive (`=`), simple (`:=`) and
 * appended (`+=`) variables, user functions with `$(1)`…, and the built-ins
 * `shell`, `info`, `warning-if`, `error-if`, `filename`, `lineno`.
 * Lookup order is preprocess.c's: variable, then built-in, then environment.
 */
import { KilnError } from "../core/errors.js";

/** What the preprocessor needs from the outside world (injected for tests). */
export interface MacroHost {
  /** Environment variables visible to `$(NAME)`. */
  env: Record<string, string | undefined>;
  /** Runs a `$(shell,…)` command: its stdout, as popen gives it. */
  shell(command: string): string;
  /** Where `$(info,…)` and warnings go (stdout / stderr lines). */
  info?(text: string): void;
  warn?(text: string): void;
}

type Flavor = "recursive" | "simple";

interface Variable {
  value: string;
  flavor: Flavor;
  expCount: number;
}

/** Expansion state for one parse: variables, and the env variables read. */
export class Preprocessor {
  readonly vars = new Map<string, Variable>();
  /** Environment variables the configuration depended on (conf's env_list). */
  readonly envUsed = new Map<string, string>();
  /** Current file and line, for `$(filename)`/`$(lineno)` and messages. */
  file = "";
  line = 0;
  /** Memo of shell commands (same command, same output within one parse). */
  private readonly shellMemo = new Map<string, string>();

  constructor(private readonly host: MacroHost) {}

  /** `NAME = value`, `:=`, `+=` (preprocess.c variable_add). */
  assign(name: string, value: string, op: "=" | ":=" | "+="): void {
    const v = this.vars.get(name);
    let flavor: Flavor;
    let append = false;
    if (v) {
      flavor = op === "+=" ? v.flavor : op === ":=" ? "simple" : "recursive";
      append = op === "+=";
    } else {
      flavor = op === ":=" ? "simple" : "recursive";
    }
    const newValue = flavor === "simple" ? this.expand(value) : value;
    if (v && append) {
      v.value = `${v.value} ${newValue}`;
      v.flavor = flavor;
    } else if (v) {
      v.value = newValue;
      v.flavor = flavor;
    } else {
      this.vars.set(name, { value: newValue, flavor, expCount: 0 });
    }
  }

  /** Expands every `$(…)` in `text`. */
  expand(text: string, args: string[] = []): string {
    let out = "";
    let i = 0;
    while (i < text.length) {
      const d = text.indexOf("$", i);
      if (d < 0) {
        out += text.slice(i);
        break;
      }
      out += text.slice(i, d);
      const r = this.expandDollar(text, d + 1, args);
      out += r.value;
      i = r.end;
    }
    return out;
  }

  /**
   * Expands the reference starting after a `$` at `start`; returns the text
   * and where the reference ends. A `$` not followed by `(` is itself.
   */
  expandDollar(text: string, start: number, args: string[] = []): { value: string; end: number } {
    if (text[start] !== "(") return { value: "$", end: start };
    let nest = 0;
    let q = start + 1;
    for (; q < text.length; q++) {
      const c = text[q];
      if (c === "(") nest++;
      else if (c === ")") {
        if (nest-- === 0) break;
      }
    }
    if (q >= text.length) {
      throw this.error(`unterminated reference to '${text.slice(start + 1)}': missing ')'`);
    }
    return { value: this.evalClause(text.slice(start + 1, q), args), end: q + 1 };
  }

  private evalClause(clause: string, args: string[]): string {
    if (/^[0-9]+$/.test(clause)) {
      const n = Number(clause);
      if (n > 0 && n <= args.length) return args[n - 1] ?? "";
    }
    const parts: string[] = [];
    let nest = 0;
    let prev = 0;
    for (let p = 0; p < clause.length; p++) {
      const c = clause[p];
      if (nest === 0 && c === ",") {
        parts.push(clause.slice(prev, p));
        prev = p + 1;
      } else if (c === "(") nest++;
      else if (c === ")") nest--;
    }
    parts.push(clause.slice(prev));
    const name = this.expand(parts[0] ?? "", args);
    const fargs = parts.slice(1).map((a) => this.expand(a, args));
    const v = this.vars.get(name);
    if (v) {
      if (fargs.length === 0 && v.expCount > 0) {
        throw this.error(`Recursive variable '${name}' references itself (eventually)`);
      }
      if (v.flavor === "simple") return v.value;
      if (v.expCount > 1000) throw this.error("Too deep recursive expansion");
      v.expCount++;
      try {
        return this.expand(v.value, fargs);
      } finally {
        v.expCount--;
      }
    }
    const fn = this.builtin(name, fargs);
    if (fn !== undefined) return fn;
    if (fargs.length === 0) {
      const e = this.host.env[name];
      if (e !== undefined) {
        this.envUsed.set(name, e);
        return e;
      }
    }
    return "";
  }

  private builtin(name: string, a: string[]): string | undefined {
    const need = (min: number, max: number) => {
      if (a.length < min) throw this.error(`too few function arguments passed to '${name}'`);
      if (a.length > max) throw this.error(`too many function arguments passed to '${name}'`);
    };
    switch (name) {
      case "shell": {
        need(1, 1);
        const cmd = a[0] ?? "";
        let out = this.shellMemo.get(cmd);
        if (out === undefined) {
          out = normalizeShellOutput(this.host.shell(cmd));
          this.shellMemo.set(cmd, out);
        }
        return out;
      }
      case "info":
        need(1, 1);
        this.host.info?.(a[0] ?? "");
        return "";
      case "warning-if":
        need(2, 2);
        if (a[0] === "y") this.host.warn?.(`${this.file}:${this.line}: ${a[1] ?? ""}`);
        return "";
      case "error-if":
        need(2, 2);
        if (a[0] === "y") throw this.error(a[1] ?? "");
        return "";
      case "filename":
        need(0, 0);
        return this.file;
      case "lineno":
        need(0, 0);
        return String(this.line);
      default:
        return undefined;
    }
  }

  private error(message: string): KilnError {
    return new KilnError("KCONFIG_MACRO", `${this.file}:${this.line}: ${message}`, {
      location: { file: this.file, line: this.line, col: 1 },
    });
  }
}

/** do_shell(): at most 4095 bytes, trailing newlines dropped, inner newlines become spaces. */
export function normalizeShellOutput(raw: string): string {
  let s = raw.length >= 4096 ? raw.slice(0, 4095) : raw;
  s = s.replace(/\n+$/, "");
  return s.replace(/\n/g, " ");
}
