/**
 * Sizes with units. Names carry their unit (`sizeBytes`, `memMiB`); parsing
 * accepts what users type for `-M`/`--size` as QEMU and Docker read it:
 * a bare number is MiB for memory (QEMU's `-m`), bytes elsewhere unless stated.
 */
import { KilnError } from "./errors.js";

const SUFFIX: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/**
 * Parse a size such as `512M`, `1GiB`, `64mb`, `4096`. A bare number is
 * multiplied by `bareUnitBytes` (1 by default). Throws `INVALID_SIZE`.
 */
export function parseSize(text: string, bareUnitBytes = 1, what = "size"): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m?.[2]?.toLowerCase() ?? "";
  const mult = unit === "" ? bareUnitBytes : SUFFIX[unit];
  if (!m || mult === undefined) {
    throw new KilnError("INVALID_SIZE", `${what} "${text}" is not a size`, {
      hint: "write a number with an optional unit: 512M, 1G, 2GiB, 100MB",
    });
  }
  return Math.round(Number(m[1]) * mult);
}

/** Parse a memory size; a bare number is MiB (as QEMU's `-m`). Returns MiB, rounded up. */
export function parseMemMiB(text: string): number {
  const bytes = parseSize(text, 1024 ** 2, "memory size");
  const mib = Math.ceil(bytes / 1024 ** 2);
  if (mib < 1) throw new KilnError("INVALID_SIZE", `memory size "${text}" is less than 1 MiB`);
  return mib;
}

/** Human-readable size in binary units: `1.5 MiB`, `320 B`. */
export function formatBytes(sizeBytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = sizeBytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** Human-readable duration: `850 ms`, `2.4 s`, `3m05s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}
