/**
 * Human-facing output on stderr: notices, warnings and progress. Color only
 * on a TTY and never when `NO_COLOR` is set (https://no-color.org). Progress
 * redraws one line on a TTY and prints one plain line per step (when it is
 * done) otherwise, so CI logs stay readable.
 *
 * Library functions take an optional {@link Reporter}; the CLI passes
 * {@link stderrReporter}, tests pass {@link collectingReporter} or nothing.
 */

export interface Progress {
  /** Update the current step; `done`/`total` are counts when known. */
  update(message: string, done?: number, total?: number): void;
  /** Finish the step with a final line. */
  done(message?: string): void;
}

export interface Reporter {
  info(message: string): void;
  warn(message: string): void;
  progress(title: string): Progress;
}

/** Whether to color a stream, following NO_COLOR and FORCE_COLOR. */
export function useColor(stream: NodeJS.WriteStream = process.stderr, env = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true && env.TERM !== "dumb";
}

/** ANSI styles that vanish when color is off. */
export function styles(color: boolean) {
  const wrap = (open: number, close: number) => (s: string) =>
    color ? `\x1b[${open}m${s}\x1b[${close}m` : s;
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
    green: wrap(32, 39),
    cyan: wrap(36, 39),
  };
}

const quietProgress: Progress = { update() {}, done() {} };

/** A reporter that discards everything (library default). */
export const silentReporter: Reporter = {
  info() {},
  warn() {},
  progress: () => quietProgress,
};

/** A reporter that records messages, for tests. */
export function collectingReporter(): Reporter & { infos: string[]; warnings: string[] } {
  const infos: string[] = [];
  const warnings: string[] = [];
  return {
    infos,
    warnings,
    info: (m) => infos.push(m),
    warn: (m) => warnings.push(m),
    progress: () => quietProgress,
  };
}

/** The CLI's reporter: writes to stderr with optional color and live progress. */
export function stderrReporter(stream: NodeJS.WriteStream = process.stderr, env = process.env): Reporter {
  const s = styles(useColor(stream, env));
  const tty = stream.isTTY === true;
  return {
    info: (m) => stream.write(`${m}\n`),
    warn: (m) => stream.write(`${s.yellow("warning:")} ${m}\n`),
    progress(title: string): Progress {
      const started = Date.now();
      let lastLen = 0;
      const line = (message: string, done?: number, total?: number) => {
        const count = done === undefined ? "" : total ? ` ${done}/${total}` : ` ${done}`;
        return `${s.cyan(title)}${count} ${message}`;
      };
      return {
        update(message, done, total) {
          if (tty) {
            const text = line(message, done, total).slice(0, (stream.columns ?? 100) - 1);
            stream.write(`\r${text}${" ".repeat(Math.max(0, lastLen - text.length))}`);
            lastLen = text.length;
          }
          // Without a terminal nothing is redrawn: the step's one line is its `done` line. Plain
          // lines every few seconds repeated the same words (a 6-minute build printed its
          // "(first build: total unknown)" note 127 times, and `Packing …` came out twice).
        },
        done(message) {
          const secs = ((Date.now() - started) / 1000).toFixed(1);
          const text = `${s.green(title)} ${message ?? "done"} (${secs} s)`;
          stream.write(tty ? `\r${text}${" ".repeat(Math.max(0, lastLen - text.length))}\n` : `${text}\n`);
        },
      };
    },
  };
}
