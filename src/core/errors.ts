/**
 * Kiln's single error type. Every failure a user can cause or fix is a
 * `KilnError` with a stable `code` (for scripts and tests), a one-line
 * `message` stating the rule broken and the value seen, an optional `hint`
 * saying what to do, and an optional `cause` (the underlying error).
 *
 * Only `cli/main.ts` turns errors into output and exit codes; library code
 * throws and never calls `process.exit`.
 */

/** Exit codes of the `kiln` command, documented in the README. */
export const ExitCode = {
  /** Success. */
  ok: 0,
  /** A user-fixable error: bad input, missing tool, failed build. */
  error: 1,
  /** Bad command-line usage (unknown flag, missing argument). */
  usage: 2,
  /** A bug in Kiln: an unexpected exception (sysexits EX_SOFTWARE). */
  internal: 70,
  /** Interrupted by SIGINT (128 + 2), as shells report it. */
  interrupted: 130,
  /** Stdout or stderr closed by the reader (EPIPE): 128 + SIGPIPE's 13, as `yes | head` reports it. */
  brokenPipe: 141,
  /** Stopped by SIGTERM (128 + 15), as shells report it. */
  terminated: 143,
} as const;

/** Where in a project file a problem sits (1-based line and column). */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

export interface KilnErrorOptions {
  /** What to do about it, printed as `hint: …`. */
  hint?: string;
  /** The underlying error, if any. */
  cause?: unknown;
  /** Exit code for the CLI; defaults to {@link ExitCode.error}. */
  exitCode?: number;
  /** Extra lines printed after the message (e.g. a source excerpt, a log tail). */
  details?: string[];
  /** Location in a project file. */
  location?: SourceLocation;
}

export class KilnError extends Error {
  /** Stable machine-readable code, e.g. `KRAFTFILE_INVALID`, `EXEC_FAILED`. */
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: number;
  readonly details: string[];
  readonly location: SourceLocation | undefined;

  constructor(code: string, message: string, options: KilnErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "KilnError";
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.error;
    this.details = options.details ?? [];
    this.location = options.location;
  }
}

/** A command-line usage error (exit code 2). */
export function usageError(message: string, hint?: string): KilnError {
  return new KilnError("USAGE", message, { hint, exitCode: ExitCode.usage });
}

/** True for a KilnError, optionally of the given code. */
export function isKilnError(e: unknown, code?: string): e is KilnError {
  return e instanceof KilnError && (code === undefined || e.code === code);
}

/** The `code` of a Node.js system error (`ENOENT`, `EACCES`, …), if any. */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e === "object" && e !== null && "code" in e && typeof e.code === "string") return e.code;
  return undefined;
}

/** Plain words for the errno codes file operations give users. */
const ERRNO_TEXT: Record<string, string> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOTDIR: "a parent is not a directory",
  EISDIR: "it is a directory",
  ENOSPC: "no space left on device",
};

/** What a failed file operation means, in words (`no such file`), else its code or message. */
export function errnoText(e: unknown): string {
  const code = errnoCode(e);
  if (code === undefined) return e instanceof Error ? e.message : String(e);
  return ERRNO_TEXT[code] ?? code;
}
