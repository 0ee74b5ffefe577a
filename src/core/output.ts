/**
 * Human-facing output on stderr: notices, warnings and progress. Color only
 * on a TTY and never when `NO_COLOR` is set (https://no-color.org). Progress
 * redraws one line on a TTY and prints occasional plain lines otherwise, so
 * CI logs stay readable.
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

/** How much the CLI's reporter says: `quiet` drops notices and progress (warnings stay), `debug` adds debug lines. */
export type LogLevel = "quiet" | "info" | "debug";

export interface StderrReporterOptions {
  level?: LogLevel;
  /** Never redraw a line (`--log-type basic`); also so without a TTY or with `TERM=dumb`. */
  plain?: boolean;
}

/** ANSI escape sequences (SGR colours and the like), which take no columns. */
const ANSI_RE = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** The columns `text` takes on a terminal: escape sequences do not count. */
export function visibleLength(text: string): number {
  return text.replace(ANSI_RE, "").length;
}

/**
 * The width a redrawn progress line may take: one less than the terminal's
 * columns (writing the last column wraps on many terminals). A terminal that
 * reports 0 columns (a serial console, some CI ptys) or none is taken as 80.
 */
export function progressWidth(columns: number | undefined): number {
  return (columns !== undefined && columns > 1 ? columns : 80) - 1;
}

/** Whether progress may redraw one line with `\r`: a TTY that is not `TERM=dumb`. */
export function canRedraw(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv, plain = false): boolean {
  return !plain && stream.isTTY === true && env.TERM !== "dumb";
}

/** The CLI's reporter: writes to stderr with optional color and live progress. */
export function stderrReporter(
  stream: NodeJS.WriteStream = process.stderr,
  env = process.env,
  opts: StderrReporterOptions = {},
): Reporter {
  const s = styles(useColor(stream, env));
  const redraw = canRedraw(stream, env, opts.plain);
  const quiet = opts.level === "quiet";
  return {
    info: (m) => {
      if (!quiet) stream.write(`${m}\n`);
    },
    warn: (m) => stream.write(`${s.yellow("warning:")} ${m}\n`),
    progress(title: string): Progress {
      if (quiet) return quietProgress;
      const started = Date.now();
      let lastPlain = 0;
      let lastLen = 0;
      // The line is cut to the width before colouring, so escape codes neither count nor get cut.
      const line = (message: string, done?: number, total?: number, width = Number.POSITIVE_INFINITY) => {
        const count = done === undefined ? "" : total ? ` ${done}/${total}` : ` ${done}`;
        const plain = `${title}${count} ${message}`.slice(0, width);
        const head = plain.slice(0, title.length);
        return { text: `${s.cyan(head)}${plain.slice(head.length)}`, length: plain.length };
      };
      return {
        update(message, done, total) {
          if (redraw) {
            const l = line(message, done, total, progressWidth(stream.columns));
            stream.write(`\r${l.text}${" ".repeat(Math.max(0, lastLen - l.length))}`);
            lastLen = l.length;
          } else if (stream.isTTY === true && Date.now() - lastPlain > 2000) {
            // A terminal that cannot redraw (TERM=dumb, --log-type basic): a plain line every 2 s
            // at most, so a person sees liveness.
            lastPlain = Date.now();
            stream.write(`${line(message, done, total).text}\n`);
          }
          // Without a terminal nothing is printed until the step ends: its one line is its `done`
          // line. Plain lines every few seconds repeated the same words (a 6-minute build printed
          // its "(first build: total unknown)" note 127 times, and `Packing …` came out twice).
        },
        done(message) {
          const secs = ((Date.now() - started) / 1000).toFixed(1);
          const plain = `${title} ${message ?? "done"} (${secs} s)`;
          const text = `${s.green(title)}${plain.slice(title.length)}`;
          stream.write(
            redraw ? `\r${text}${" ".repeat(Math.max(0, lastLen - plain.length))}\n` : `${text}\n`,
          );
        },
      };
    },
  };
}
