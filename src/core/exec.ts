/**
 * Child processes that explain their failures (after zx): a failed command
 * reports its argv, exit code or signal, and the tail of its stderr.
 */
import { type SpawnOptions, spawn, spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { KilnError } from "./errors.js";
import { debug } from "./log.js";

export interface ExecOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Bytes written to the child's stdin, then closed. */
  input?: string | Buffer;
  /** Kill the child (SIGKILL) after this many milliseconds. */
  timeoutMs?: number;
  /** Don't throw on a non-zero exit; the caller inspects `exitCode`. */
  allowFailure?: boolean;
  /** Called with each chunk of stdout / stderr as it arrives. */
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /** Hint attached to the error when the command fails. */
  hint?: string;
  /** Lines of stderr kept for the error message. */
  tailLines?: number;
}

export interface ExecResult {
  argv: string[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Debian package that provides a tool, for "not found" hints. */
const PACKAGE_OF: Record<string, string> = {
  "qemu-system-x86_64": "qemu-system-x86",
  "qemu-system-aarch64": "qemu-system-arm",
  "mkfs.ext4": "e2fsprogs",
  e2fsck: "e2fsprogs",
  debugfs: "e2fsprogs",
  "mkfs.erofs": "erofs-utils",
  "fsck.erofs": "erofs-utils",
  mmdebstrap: "mmdebstrap",
  bsdcpio: "libarchive-tools",
  bsdtar: "libarchive-tools",
  cpio: "cpio",
  git: "git",
  make: "make",
  gcc: "gcc",
  "aarch64-linux-gnu-gcc": "gcc-aarch64-linux-gnu",
  flex: "flex",
  bison: "bison",
  skopeo: "skopeo",
  firecracker: "",
};

/** Absolute path of `tool` on PATH, or undefined. */
export function which(tool: string, pathEnv = process.env.PATH ?? ""): string | undefined {
  if (tool.includes("/")) return tool;
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, tool);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  // Tools like mkfs.ext4 live in /usr/sbin, often absent from a user's PATH.
  for (const dir of ["/usr/sbin", "/sbin"]) {
    const p = join(dir, tool);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Path of `tool`, or a KilnError `TOOL_MISSING` naming the package to install. */
export function requireTool(tool: string, purpose?: string): string {
  const found = which(tool);
  if (found) return found;
  const pkg = PACKAGE_OF[tool];
  const hint =
    pkg === undefined || pkg === ""
      ? `install ${tool} and make sure it is on PATH`
      : `on Debian/Ubuntu: apt-get install ${pkg}`;
  return missingTool(tool, purpose, hint);
}

function missingTool(tool: string, purpose: string | undefined, hint: string): never {
  throw new KilnError("TOOL_MISSING", `${tool} not found${purpose ? ` (needed to ${purpose})` : ""}`, {
    hint,
  });
}

/** Last `n` non-empty lines of a text. */
export function tail(text: string, n: number): string[] {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  return lines.slice(Math.max(0, lines.length - n));
}

/** Quote an argv for display so it can be pasted into a shell. */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}

/**
 * Run `argv` to completion, capturing stdout and stderr. Throws `EXEC_FAILED`
 * (with argv, exit status and stderr tail) on a non-zero exit unless
 * `allowFailure`, and `TOOL_MISSING` when the program does not exist.
 */
export function exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new KilnError("EXEC_FAILED", "empty command line");
  const started = Date.now();
  debug(`kiln: run ${formatArgv(argv)}${options.cwd ? ` (in ${options.cwd})` : ""}`);
  const spawnOptions: SpawnOptions = {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["pipe", "pipe", "pipe"],
  };
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, spawnOptions);
    running.add(child);
    child.on("close", () => running.delete(child));
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, options.timeoutMs);
    }
    child.stdout?.on("data", (c: Buffer) => {
      out.push(c);
      options.onStdout?.(c);
    });
    child.stderr?.on("data", (c: Buffer) => {
      err.push(c);
      options.onStderr?.(c);
    });
    child.stdin?.on("error", () => {
      // the child may exit without reading its input; its exit status tells the story
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
    child.on("error", (e: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      if (e.code === "ENOENT") {
        try {
          requireTool(cmd);
        } catch (missing) {
          reject(missing);
          return;
        }
      }
      reject(new KilnError("EXEC_FAILED", `could not start ${cmd}: ${e.message}`, { cause: e }));
    });
    child.on("close", (exitCode, signal) => {
      if (timer) clearTimeout(timer);
      const result: ExecResult = {
        argv: [...argv],
        exitCode,
        signal,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        durationMs: Date.now() - started,
      };
      if ((exitCode === 0 && !timedOut) || options.allowFailure) {
        resolve(result);
        return;
      }
      reject(execError(result, { timedOut, hint: options.hint, tailLines: options.tailLines }));
    });
  });
}

/** The `EXEC_FAILED` error for a finished command: argv, status, stderr tail. */
export function execError(
  result: Pick<ExecResult, "argv" | "exitCode" | "signal" | "stderr" | "stdout">,
  opts: { timedOut?: boolean; hint?: string; tailLines?: number; logTail?: string[] } = {},
): KilnError {
  const name = result.argv[0] ?? "command";
  const status = opts.timedOut
    ? "timed out"
    : result.signal
      ? `was killed by ${result.signal}`
      : `exited with code ${result.exitCode}`;
  const stderrTail = opts.logTail ?? tail(result.stderr || result.stdout, opts.tailLines ?? 15);
  return new KilnError("EXEC_FAILED", `${name} ${status}`, {
    hint: opts.hint,
    details: [`command: ${formatArgv(result.argv)}`, ...stderrTail.map((l) => `  | ${l}`)],
  });
}

/**
 * Runs `sh -c command` synchronously and returns its stdout, whatever the
 * exit status — popen() semantics, which Kconfig's `$(shell,…)` needs while
 * a parse is under way (the parser is synchronous, like conf's).
 */
export function shellSync(command: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync("/bin/sh", ["-c", command], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error)
    throw new KilnError("EXEC_FAILED", `could not start /bin/sh for: ${command}: ${r.error.message}`, {
      cause: r.error,
    });
  return r.stdout;
}

/** Children started by {@link exec} that have not ended yet. */
const running = new Set<import("node:child_process").ChildProcess>();

/**
 * Kill every child {@link exec} started that is still running and wait (at
 * most `timeoutMs`) for them to end. The CLI calls it on Ctrl-C before it
 * removes partial outputs: a tool still running (mkfs.ext4 creating its image)
 * would otherwise create the temporary file again after it was removed.
 */
export async function killRunningChildren(timeoutMs = 2000): Promise<void> {
  const ends = [...running].map(
    (c) =>
      new Promise<void>((resolve) => {
        if (c.exitCode !== null || c.signalCode !== null) return resolve();
        c.once("close", () => resolve());
        c.kill("SIGKILL");
      }),
  );
  await Promise.race([Promise.all(ends), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
}

/** {@link killRunningChildren} without waiting, for the process's `exit` event. */
export function killRunningChildrenSync(): void {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}
