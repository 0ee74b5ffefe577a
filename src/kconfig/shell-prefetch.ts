/**
 * Parallel `$(shell,…)` for big trees. conf runs Linux's ~90 compiler probes
 * (cc-option, as-instr, …) one after another while it parses; Kiln records
 * which commands a tree ran (the list only, never their results) and on the
 * next parse starts all of them at once in the background, so they run on
 * the other cores while the parser works. Each result is still produced by
 * running the command in this parse, with the same text, environment and
 * directory; a command not prefetched runs synchronously as before.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";

const sleepBuf = new Int32Array(new SharedArrayBuffer(4));

function sleepMs(ms: number): void {
  Atomics.wait(sleepBuf, 0, 0, ms);
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}

/** A batch of commands started in the background, results read on demand. */
export class ShellPrefetch {
  private readonly index = new Map<string, number>();
  private dir = "";
  private child: ChildProcess | undefined;
  /** Commands the parse asked for, in order (saved for the next run). */
  readonly used: string[] = [];

  constructor(
    private readonly listFile: string,
    cwd: string,
    env: Record<string, string>,
  ) {
    let commands: string[] = [];
    try {
      commands = JSON.parse(readFileSync(listFile, "utf8")) as string[];
    } catch {
      commands = [];
    }
    if (commands.length === 0) return;
    this.dir = mkdtempSync(join(tmpdir(), "kiln-kconfig-shell-"));
    // a parse that never reaches finish() (an error, an interrupted menu) still leaves no directory
    process.once("exit", this.removeDir);
    const jobs = Math.max(2, availableParallelism() * 2);
    // No process per job but the command's own: a count and `wait -n` bound the jobs (a
    // `$(jobs -rp | wc -l)` test forked twice a command), and an empty `.done` file written by
    // a redirection marks the output complete (an `mv` forked once more).
    const lines = [
      "set +e",
      `D=${shQuote(this.dir)}`,
      'run() { sh -c "$2" >"$D/$1.out" 2>"$D/$1.err"; : >"$D/$1.done"; }',
    ];
    commands.forEach((c, i) => {
      this.index.set(c, i);
      if (i >= jobs) lines.push("wait -n");
      lines.push(`run ${i} ${shQuote(c)} &`);
    });
    lines.push("wait");
    writeFileSync(join(this.dir, "run.sh"), `${lines.join("\n")}\n`);
    this.child = spawn("/bin/bash", [join(this.dir, "run.sh")], {
      cwd,
      env,
      stdio: "ignore",
      detached: true,
    });
    this.child.unref();
  }

  /**
   * The output of a prefetched command (waiting for it to finish), or
   * undefined if it was not prefetched. Its stderr is replayed now, in parse
   * order, as popen would have shown it.
   */
  take(command: string): string | undefined {
    this.used.push(command);
    const i = this.index.get(command);
    if (i === undefined) return undefined;
    this.index.delete(command);
    const out = join(this.dir, `${i}.out`);
    const done = join(this.dir, `${i}.done`);
    const deadline = Date.now() + 120_000;
    while (!existsSync(done)) {
      if (Date.now() > deadline || this.child?.exitCode != null) {
        if (existsSync(done)) break;
        return undefined;
      }
      sleepMs(1);
    }
    const err = readFileSync(join(this.dir, `${i}.err`), "utf8");
    if (err) process.stderr.write(err);
    return readFileSync(out, "utf8");
  }

  /** Saves the command list for next time, stops leftover commands, removes the scratch directory. */
  finish(): void {
    if (this.child?.pid !== undefined && this.child.exitCode === null) {
      try {
        process.kill(-this.child.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    try {
      mkdirSync(join(this.listFile, ".."), { recursive: true });
      writeFileSync(this.listFile, JSON.stringify([...new Set(this.used)]));
    } catch {
      // a read-only cache only costs speed
    }
    this.removeDir();
    process.off("exit", this.removeDir);
  }

  // Retried: commands killed a moment ago may still be writing their files (ENOTEMPTY).
  private readonly removeDir = () => {
    if (this.dir !== "") rmSync(this.dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
  };
}

/** Cache file naming a tree's command list (by tree path, arch and toolchain environment). */
export function prefetchListPath(cacheDir: string, key: Record<string, string>): string {
  const h = createHash("sha256").update(JSON.stringify(key)).digest("hex").slice(0, 16);
  return join(cacheDir, "kconfig-shell", `${h}.json`);
}
