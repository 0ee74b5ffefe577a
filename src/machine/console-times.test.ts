import assert from "node:assert/strict";
import { test } from "node:test";
import { isKilnError } from "../core/errors.js";
import {
  formatTimestamp,
  parseConsoleTimes,
  parseGoDurationMs,
  parseSince,
  timeLines,
} from "./console-times.js";

test("docker's timestamp form: UTC, nine fractional digits", () => {
  assert.equal(
    formatTimestamp(Date.UTC(2026, 11, 3, 17, 11, 39, 123) + 0.456),
    "2026-12-03T17:11:39.123456000Z",
  );
  assert.equal(formatTimestamp(Date.UTC(2026, 0, 1)), "2026-01-01T00:00:00.000000000Z");
});

test("line N of console.times is the time of line N; unstamped lines take the fallback", () => {
  const log = Buffer.from("a\r\nbb\nlast");
  const times = parseConsoleTimes("1733240000.000001\n1733240001.5\n");
  assert.deepEqual(times, [1733240000000.001, 1733240001500]);
  assert.deepEqual(timeLines(log, times, 9), [
    { start: 0, end: 3, timeMs: 1733240000000.001 },
    { start: 3, end: 6, timeMs: 1733240001500 },
    { start: 6, end: 10, timeMs: 9 },
  ]);
  assert.deepEqual(parseConsoleTimes("12.5\ngarbage\n13\n"), [12500], "a bad line ends the list");
});

test("--since: Go durations back from now, Unix seconds, RFC 3339 with and without a zone", () => {
  const now = Date.UTC(2026, 11, 3, 12, 0, 0);
  assert.equal(parseGoDurationMs("1h30m"), 5_400_000);
  assert.equal(parseGoDurationMs("1.5h"), 5_400_000);
  assert.equal(parseGoDurationMs("300ms"), 300);
  assert.equal(parseGoDurationMs("10"), undefined);
  assert.equal(parseGoDurationMs("10x"), undefined);
  assert.equal(parseSince("10m", now), now - 600_000);
  assert.equal(parseSince("0s", now), now);
  assert.equal(parseSince("1733240000", now), 1733240000_000);
  assert.equal(parseSince("1733240000.25", now), 1733240000_250);
  assert.equal(parseSince("2026-12-03T11:00:00Z", now), Date.UTC(2026, 11, 3, 11));
  assert.equal(parseSince("2026-12-03T13:00:00+02:00", now), Date.UTC(2026, 11, 3, 11));
  assert.equal(parseSince("2026-12-03T11:00:00.5Z", now), Date.UTC(2026, 11, 3, 11, 0, 0, 500));
  // Without a zone: local time, as docker reads it.
  assert.equal(parseSince("2026-12-03T11:00:00", now), new Date(2026, 11, 3, 11).getTime());
  assert.equal(parseSince("2026-12-03", now), new Date(2026, 11, 3).getTime());
  for (const bad of ["yesterday", "2026-13-45", "-5m", ""]) {
    assert.throws(
      () => parseSince(bad, now),
      (e: unknown) => isKilnError(e, "USAGE") && e.message === `--since "${bad}" is not a time`,
      bad,
    );
  }
});
