/**
 * The `kiln` entry point: the only place that prints errors and calls
 * `process.exit`. Exit codes: see {@link ExitCode} and the README.
 */
import { readFileSync } from "node:fs";
import { ExitCode, KilnError, usageError } from "../core/errors.js";
import { killRunningChildren, killRunningChildrenSync } from "../core/exec.js";
import { cleanupTempPaths, cleanupTempPathsSync } from "../core/fs.js";
import { setDebugSink } from "../core/log.js";
import { type LogLevel, stderrReporter, styles, useColor } from "../core/output.js";
import { type CommandContext, formatCommandHelp, parseCommandArgs } from "./command.js";
import { COMMANDS, type CommandEntry } from "./commands/index.js";
import { suggest } from "./suggest.js";

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

function topHelp(): string {
  const width = Math.max(8, ...COMMANDS.map((c) => c.name.join(" ").length)) + 4;
  const rows = COMMANDS.map((c) => {
    const also = c.aliases?.length ? ` (also: ${c.aliases.map((a) => a.join(" ")).join(", ")})` : "";
    return `  ${c.name.join(" ").padEnd(width)}${c.summary}${also}`;
  });
  return [
    "kiln: build and run unikernels and microVMs (Unikraft, Firecracker-style Linux guests)",
    "",
    "usage: kiln COMMAND [options]",
    "",
    "commands:",
    ...rows,
    "",
    "global options:",
    "  -h, --help      show help (also: kiln COMMAND --help)",
    "  -V, --version   print the version",
    "",
    "Environment: NO_COLOR disables color; KILN_HOME puts state and caches in one directory.",
    "",
  ].join("\n");
}

/** The command whose words (or an alias's) are the longest prefix of argv; implied arguments first. */
function findCommand(argv: string[]): { entry: CommandEntry; rest: string[] } | undefined {
  let best: { entry: CommandEntry; words: number } | undefined;
  for (const c of COMMANDS) {
    for (const name of [c.name, ...(c.aliases ?? [])]) {
      if (name.every((w, i) => argv[i] === w) && (!best || name.length > best.words)) {
        best = { entry: c, words: name.length };
      }
    }
  }
  return best
    ? { entry: best.entry, rest: [...(best.entry.impliedArgs ?? []), ...argv.slice(best.words)] }
    : undefined;
}

function nearest(word: string): string | undefined {
  return suggest(
    word,
    COMMANDS.flatMap((c) => [c.name[0]!, ...(c.aliases ?? []).map((a) => a[0]!)]),
  );
}

/**
 * Whether `--json` was asked for (before a `--`): then stdout carries exactly
 * one JSON document, a failure included, and {@link report} writes it.
 */
let jsonMode = false;
/** Whether the command already wrote its document (e.g. validate's `{ok: false, diagnostics}`). */
let stdoutWritten = false;

/** The failure document of the JSON contract: `{ok: false, error: {code, message, hint}}`. */
function failureJson(e: unknown): { ok: false; error: Record<string, unknown> } {
  if (e instanceof KilnError) {
    return {
      ok: false,
      error: {
        code: e.code,
        message: e.message,
        hint: e.hint ?? null,
        ...(e.location ? { location: e.location } : {}),
        ...(e.details.length ? { details: e.details } : {}),
      },
    };
  }
  return {
    ok: false,
    error: { code: "INTERNAL", message: e instanceof Error ? e.message : String(e), hint: null },
  };
}

/** Print an error for the user; returns the exit code. */
function report(e: unknown): number {
  if (jsonMode && !stdoutWritten) {
    stdoutWritten = true;
    process.stdout.write(`${JSON.stringify(failureJson(e), null, 2)}\n`);
  }
  const s = styles(useColor(process.stderr));
  if (e instanceof KilnError) {
    const where = e.location ? `${e.location.file}:${e.location.line}:${e.location.col}: ` : "";
    process.stderr.write(`${s.red("error:")} ${where}${e.message}\n`);
    for (const d of e.details) process.stderr.write(`${d}\n`);
    if (e.hint) process.stderr.write(`${s.cyan("hint:")} ${e.hint}\n`);
    return e.exitCode;
  }
  const stack = e instanceof Error ? (e.stack ?? e.message) : String(e);
  process.stderr.write(
    `${s.red("internal error:")} ${stack}\n\nThis is a bug in Kiln ${version()}; please report it with the command you ran.\n`,
  );
  return ExitCode.internal;
}

/**
 * The reporter's level: `--quiet` or kraft's `--log-level error|warn`;
 * `--verbose`, `--log-level debug` or `KILN_LOG=debug` (for a run started by
 * a script). Throws on a level Kiln does not know.
 */
function logLevel(values: CommandContext["values"], env: NodeJS.ProcessEnv): LogLevel {
  const given = values["log-level"];
  if (given !== undefined && !["error", "warn", "info", "debug", "trace"].includes(String(given))) {
    throw usageError(`--log-level "${given}" is not one of error, warn, info, debug`);
  }
  const logType = values["log-type"];
  if (logType !== undefined && logType !== "fancy" && logType !== "basic") {
    throw usageError(`--log-type "${logType}" is not fancy or basic`, "Kiln prints JSON with --json");
  }
  if (values.quiet === true && values.verbose === true)
    throw usageError("--quiet and --verbose contradict each other");
  if (values.quiet === true || given === "error" || given === "warn") return "quiet";
  if (values.verbose === true || given === "debug" || given === "trace") return "debug";
  return env.KILN_LOG === "debug" ? "debug" : "info";
}

/** Run the CLI with `argv` (without node and script); resolves to an exit code. */
export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    if (argv[0] === "help" && argv.length > 1) return main([...argv.slice(1), "--help"]);
    process.stdout.write(topHelp());
    return argv.length === 0 ? ExitCode.usage : ExitCode.ok;
  }
  if (argv[0] === "--version" || argv[0] === "-V") {
    process.stdout.write(`kiln ${version()}\n`);
    return ExitCode.ok;
  }
  const dd = argv.indexOf("--");
  jsonMode = (dd === -1 ? argv : argv.slice(0, dd)).includes("--json");
  const found = findCommand(argv);
  if (!found) {
    const near = nearest(argv[0]!);
    return report(
      usageError(
        `unknown command "${argv[0]}"`,
        near ? `did you mean "kiln ${near}"? See: kiln --help` : "see: kiln --help",
      ),
    );
  }
  const controller = new AbortController();
  let claimed = false;
  // The abort reason names the signal, so a command can say which one stopped it. A closed
  // stdout/stderr (EPIPE: `kiln run … | head -2`) counts as SIGPIPE: Node ignores the signal
  // itself, so the failed write is the only news, and without a handler it is a stack trace.
  const onSignal = (signal: "SIGINT" | "SIGTERM" | "SIGPIPE") => {
    controller.abort(signal);
    if (!claimed) {
      // Default: remove partial outputs and leave with 128 + N, as shells expect.
      process.once("exit", () => {
        killRunningChildrenSync();
        cleanupTempPathsSync();
      });
      void killRunningChildren()
        .then(cleanupTempPaths)
        .finally(() => process.exit(interruptedCode()));
    }
  };
  const interruptedCode = () =>
    controller.signal.reason === "SIGTERM"
      ? ExitCode.terminated
      : controller.signal.reason === "SIGPIPE"
        ? ExitCode.brokenPipe
        : ExitCode.interrupted;
  // A command reports an interruption as 130; a SIGTERM makes it 143.
  const signalled = (code: number) => (code === ExitCode.interrupted ? interruptedCode() : code);
  const onSigint = () => onSignal("SIGINT");
  const onSigterm = () => onSignal("SIGTERM");
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);
  const onPipeError = (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") return;
    // Nothing more can be said on a closed pipe; quiet from here on, as `yes | head` is.
    for (const s of [process.stdout, process.stderr]) s.write = (() => true) as typeof s.write;
    if (!controller.signal.aborted) onSignal("SIGPIPE");
  };
  process.stdout.on("error", onPipeError);
  process.stderr.on("error", onPipeError);
  try {
    const def = (await found.entry.load()).default;
    const parsed = parseCommandArgs(def, found.rest);
    if (parsed.help) {
      process.stdout.write(formatCommandHelp(def));
      return ExitCode.ok;
    }
    const level = logLevel(parsed.values, process.env);
    if (level === "debug") setDebugSink((line) => process.stderr.write(`${line}\n`));
    const ctx: CommandContext = {
      values: parsed.values,
      positionals: parsed.positionals,
      rest: parsed.rest,
      cwd: process.cwd(),
      env: process.env,
      reporter: stderrReporter(process.stderr, process.env, {
        level,
        plain: parsed.values["log-type"] === "basic",
      }),
      out: (t) => {
        stdoutWritten = true;
        process.stdout.write(t);
      },
      stdinIsTTY: process.stdin.isTTY === true,
      signal: controller.signal,
      claimInterrupts: () => {
        claimed = true;
      },
    };
    try {
      return signalled((await def.run(ctx)) ?? ExitCode.ok);
    } catch (e) {
      if (def.jsonFailure && e instanceof KilnError && ctx.values.json === true) {
        const error = { code: e.code, message: e.message, hint: e.hint ?? null };
        ctx.out(`${JSON.stringify({ ok: false, error }, null, 2)}\n`);
      }
      throw e;
    }
  } catch (e) {
    return signalled(report(e));
  } finally {
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.exitCode = report(e);
  },
);
