/**
 * The CLI's command model: each command declares its options (fed to Node's
 * strict `util.parseArgs`) and a `run` that calls typed library functions.
 * Commands never call `process.exit`; they return an exit code or throw.
 */
import { parseArgs } from "node:util";
import { usageError } from "../core/errors.js";
import type { Reporter } from "../core/output.js";
import { suggest } from "./suggest.js";

export interface OptionDef {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** Shown in `--help`. */
  description: string;
  /** Placeholder for the value in `--help`, e.g. `FILE`. */
  valueName?: string;
  default?: string | boolean;
}

export interface CommandContext {
  /** Parsed option values, keyed by long name. */
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  /** Positional arguments after the command words, before `--`. */
  positionals: string[];
  /** Arguments after a literal `--` (e.g. application arguments for `kiln run`). */
  rest: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  /** Write to stdout (results, JSON). */
  out: (text: string) => void;
  /** Whether stdin is an interactive terminal. */
  stdinIsTTY: boolean;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
  /**
   * Take over SIGINT/SIGTERM handling (e.g. `kiln run` stops its VM cleanly).
   * Without it, an interrupt removes partial outputs and exits with 130.
   */
  claimInterrupts: () => void;
}

export interface CommandDef {
  /** Command words, e.g. `["rootfs", "build"]`. */
  name: string[];
  summary: string;
  /** Usage line after `kiln `, e.g. `rootfs build SRC -o OUT [options]`. */
  usage: string;
  options: Record<string, OptionDef>;
  /** Longer help text: arguments, examples. */
  details?: string;
  /** Maximum positionals accepted (default: unlimited). */
  maxPositionals?: number;
  /**
   * With `--json`, a failure also prints `{ok: false, error: {code, message,
   * hint}}` on stdout (the document `validate` prints), so a script reading
   * stdout gets one JSON document whether the command worked or not.
   */
  jsonFailure?: boolean;
  /**
   * Flags of kraft, docker or firectl that Kiln spells differently or does
   * not have, and what to write instead: a one-line error, not a bare
   * "unknown option" (`--platform` → `use --plat`).
   */
  foreignFlags?: Record<string, string>;
  run(ctx: CommandContext): Promise<number | undefined>;
}

/** Typed accessors over parsed values. */
export function str(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.values[name];
  return typeof v === "string" ? v : undefined;
}
export function bool(ctx: CommandContext, name: string): boolean {
  return ctx.values[name] === true;
}
export function list(ctx: CommandContext, name: string): string[] {
  const v = ctx.values[name];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  return typeof v === "string" ? [v] : [];
}

const HELP: OptionDef = { type: "boolean", short: "h", description: "show this help" };

/**
 * Options every command takes (a command may define its own `json` with a
 * more precise description). `--json`: exactly one JSON document on stdout,
 * errors included (`{ok: false, error: {code, message, hint}}`, printed by
 * the entry point). `--log-level`/`--log-type` are KraftKit's spellings.
 */
export const GLOBAL_OPTIONS: Record<string, OptionDef> = {
  json: {
    type: "boolean",
    description: "print one JSON document on stdout (errors too: {ok: false, error})",
  },
  quiet: { type: "boolean", description: "print only results and errors (no progress or notices)" },
  verbose: { type: "boolean", description: "also print debug output: each external command Kiln runs" },
  "log-level": {
    type: "string",
    valueName: "LEVEL",
    description: "kraft's spelling: error|warn (= --quiet), info, debug (= --verbose)",
  },
  "log-type": {
    type: "string",
    valueName: "TYPE",
    description: "kraft's spelling: fancy or basic (progress style)",
  },
};

/** Parse argv (after the command words) for a command. Throws usage errors. */
export function parseCommandArgs(
  def: CommandDef,
  argv: string[],
): Pick<CommandContext, "values" | "positionals" | "rest"> & { help: boolean } {
  const dd = argv.indexOf("--");
  const head = dd === -1 ? argv : argv.slice(0, dd);
  const rest = dd === -1 ? [] : argv.slice(dd + 1);
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {
    help: HELP,
  };
  for (const [k, o] of Object.entries({ ...GLOBAL_OPTIONS, ...def.options })) {
    options[k] = {
      type: o.type,
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
    };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: head, options, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message.split("\n")[0]! : String(e);
    // Node's messages carry advice about `--` written for its own API, not for Kiln's users.
    const unknown = /^Unknown option '([^']+)'/.exec(msg);
    const missing = /^Option '([^']+)' argument missing/.exec(msg);
    if (unknown) {
      const flag = unknown[1]!;
      const instead = def.foreignFlags?.[flag];
      if (instead)
        throw usageError(`unknown option ${flag}: ${instead}`, `see: kiln ${def.name.join(" ")} --help`);
      if (flag.startsWith("--")) {
        const near = suggest(flag.slice(2), Object.keys({ ...GLOBAL_OPTIONS, ...def.options }));
        if (near)
          throw usageError(
            `unknown option ${flag}`,
            `did you mean --${near}? See: kiln ${def.name.join(" ")} --help`,
          );
      }
    }
    // `-M -5`: parseArgs will not take a value that looks like an option (issue 9).
    const ambiguous = /^Option '([^']+)' argument is ambiguous/.exec(msg);
    const given = ambiguous ? head[head.indexOf(ambiguous[1]!.split(",")[0]!.trim()) + 1] : undefined;
    throw usageError(
      unknown
        ? `unknown option ${unknown[1]}`
        : ambiguous
          ? `option ${ambiguous[1]} got ${given === undefined ? "a value" : `"${given}"`}, which starts with "-": a negative number or an option name is not a value it takes`
          : missing
            ? `option ${missing[1]!.replace(/ <value>$/, "")} needs a value`
            : msg.replace(/\. To specify a positional argument.*$/, ""),
      `see: kiln ${def.name.join(" ")} --help`,
    );
  }
  const values = { ...parsed.values } as CommandContext["values"];
  for (const [k, o] of Object.entries(def.options)) {
    if (values[k] === undefined && o.default !== undefined) values[k] = o.default;
  }
  const positionals = parsed.positionals;
  if (def.maxPositionals !== undefined && positionals.length > def.maxPositionals) {
    throw usageError(
      `too many arguments: ${positionals.slice(def.maxPositionals).join(" ")}`,
      `usage: kiln ${def.usage}`,
    );
  }
  return { values, positionals, rest, help: values.help === true };
}

/** `--help` text for a command. */
export function formatCommandHelp(def: CommandDef): string {
  const lines = [`${def.summary}`, "", `usage: kiln ${def.usage}`, "", "options:"];
  const entries: [string, OptionDef][] = [
    ...Object.entries(def.options),
    ...Object.entries(GLOBAL_OPTIONS).filter(([k]) => !(k in def.options)),
    ["help", HELP],
  ];
  const left = entries.map(([k, o]) => {
    const short = o.short ? `-${o.short}, ` : "    ";
    const val = o.type === "string" ? ` ${o.valueName ?? "VALUE"}` : "";
    return `  ${short}--${k}${val}`;
  });
  const width = Math.max(...left.map((l) => l.length)) + 2;
  entries.forEach(([, o], i) => {
    const extra = o.multiple ? " (repeatable)" : "";
    lines.push(`${left[i]!.padEnd(width)}${o.description}${extra}`);
  });
  if (def.details) lines.push("", def.details.trimEnd());
  return `${lines.join("\n")}\n`;
}
