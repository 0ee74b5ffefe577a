/**
 * A real terminal for interactive tests: a detached tmux session of a given
 * size running a command; keys go in with `send-keys`, the screen comes back
 * with `capture-pane`. The session is killed when the test ends.
 */
import { execFileSync } from "node:child_process";
import type { TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

/** A tmux session under test. */
export interface Terminal {
  name: string;
  /** The visible screen as text (`escapes`: with SGR attributes). */
  screen(escapes?: boolean): string;
  /** tmux key names (`Down`, `Enter`, `Escape`, `C-c`) or literal text with `{ literal: true }`. */
  send(...keys: string[]): void;
  type(text: string): void;
  /** Waits until the screen matches; fails with the last screen. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  resize(width: number, height: number): void;
}

const tmux = (...args: string[]) => execFileSync("tmux", args, { encoding: "utf8" });

/** Starts `argv` in a new tmux session of `width`×`height` with `env`. */
export function startTerminal(
  t: TestContext,
  argv: string[],
  opts: { width: number; height: number; cwd: string; env: Record<string, string> },
): Terminal {
  const name = `kiln-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const envs = Object.entries(opts.env).map(([k, v]) => `${k}=${quote(v)}`);
  // the shell stays after kiln exits so the test can read its last screen and exit code
  const cmd = `cd ${quote(opts.cwd)} && env ${envs.join(" ")} ${argv.map(quote).join(" ")}; echo "KILN-EXIT=$?"; sleep 600`;
  tmux("new-session", "-d", "-s", name, "-x", String(opts.width), "-y", String(opts.height), cmd);
  tmux("set-option", "-t", name, "window-size", "manual");
  t.after(() => {
    try {
      tmux("kill-session", "-t", name);
    } catch {
      // already gone
    }
  });
  const term: Terminal = {
    name,
    screen: (escapes = false) => tmux("capture-pane", "-p", ...(escapes ? ["-e"] : []), "-t", name),
    send: (...keys) => {
      for (const k of keys) tmux("send-keys", "-t", name, k);
    },
    type: (text) => {
      tmux("send-keys", "-t", name, "-l", text);
    },
    async waitFor(re, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      let last = "";
      for (;;) {
        last = term.screen();
        if (re.test(last)) return last;
        if (Date.now() > until) throw new Error(`screen never matched ${re}; last screen:\n${last}`);
        await sleep(100);
      }
    },
    resize: (width, height) => {
      tmux("resize-window", "-t", name, "-x", String(width), "-y", String(height));
    },
  };
  return term;
}
