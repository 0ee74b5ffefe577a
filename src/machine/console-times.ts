/**
 * Times of console lines, for `kiln logs -t` and `kiln logs --since` (docker's
 * flags). Pure: text in, data out.
 *
 * Why a side file: the VMM itself writes `console.log` (QEMU's pipe chardev,
 * Firecracker's stdout), byte for byte, and Kiln need not be running while it
 * does (detached machines). So the supervisor runs a follower beside the VMM
 * (`supervise.ts`: GNU `tail -f`, woken by inotify, into a bash loop reading
 * `$EPOCHREALTIME`) that appends one line to `console.times` per console line,
 * the Unix time in seconds with microseconds at which the line's newline
 * landed. Line N of `console.times` is the time of line N of `console.log`; the
 * log stays exactly what the guest wrote. A last line without a newline gets
 * its time when the VMM ends; until then (and for machines started before
 * this file existed) a line without a recorded time takes the log's
 * modification time, an upper bound.
 */
import { usageError } from "../core/errors.js";

/** One console line with its time. */
export interface TimedLine {
  /** Byte range in the log: `[start, end)`, `end` after the `\n` when there is one. */
  start: number;
  end: number;
  /** Unix time in milliseconds (fractional: microseconds kept). */
  timeMs: number;
}

/** Parse `console.times` (one `SECONDS.MICROS` per line) into Unix milliseconds; bad lines end the list. */
export function parseConsoleTimes(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split("\n")) {
    if (!/^\d+(\.\d+)?$/.test(line)) break;
    out.push(Number(line) * 1000);
  }
  return out;
}

/**
 * Split `log` into lines and give each its time: the `n`th recorded time, or
 * `fallbackMs` (the log's modification time) for lines not stamped yet.
 */
export function timeLines(log: Buffer, timesMs: readonly number[], fallbackMs: number): TimedLine[] {
  const out: TimedLine[] = [];
  let start = 0;
  while (start < log.length) {
    const nl = log.indexOf(0x0a, start);
    const end = nl === -1 ? log.length : nl + 1;
    out.push({ start, end, timeMs: timesMs[out.length] ?? fallbackMs });
    start = end;
  }
  return out;
}

/**
 * A time as `docker logs -t` prints it: RFC 3339 in UTC with nine fractional
 * digits (Go's `RFC3339NanoFixed`), e.g. `2026-12-03T17:11:39.123456000Z`.
 */
export function formatTimestamp(timeMs: number): string {
  const micros = Math.round(timeMs * 1000);
  const whole = new Date(Math.floor(micros / 1000)).toISOString().slice(0, 19);
  const frac = String(micros % 1_000_000).padStart(6, "0");
  return `${whole}.${frac}000Z`;
}

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A Go duration (`10m`, `1h30m`, `1.5h`, `300ms`), as docker's `--since` takes it; undefined if it is not one. */
export function parseGoDurationMs(text: string): number | undefined {
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    matched = re.lastIndex;
  }
  return matched > 0 && matched === text.length ? total : undefined;
}

/**
 * `--since` as docker takes it (`docker logs --since`, its `GetTimestamp`):
 * a duration back from `nowMs` (`10m`, `1h30m`), Unix seconds (`1733240000`,
 * `1733240000.5`), or an RFC 3339 date-time (`2026-12-03T17:00:00Z`,
 * `…+01:00`; without a zone, or a bare date `2026-12-03`, local time).
 * Returns Unix milliseconds; throws `USAGE` naming the forms.
 */
export function parseSince(text: string, nowMs: number): number {
  const t = text.trim();
  const duration = parseGoDurationMs(t);
  if (duration !== undefined) return nowMs - duration;
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.exec(t);
  if (m) {
    const [, y, mo, d, h = "00", mi = "00", s = "00", frac = "", zone] = m;
    const iso = `${y}-${mo}-${d}T${h}:${mi}:${s}${frac.slice(0, 4)}`;
    const ms = zone
      ? Date.parse(`${iso}${zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone.toUpperCase()}`)
      : Date.parse(iso);
    if (!Number.isNaN(ms)) return ms;
  }
  throw usageError(
    `--since "${text}" is not a time`,
    "give a duration back from now (10m, 1h30m), Unix seconds (1733240000) or an RFC 3339 time (2026-12-03T17:00:00Z)",
  );
}
