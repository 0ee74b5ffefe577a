/** Kiln's version, part of every kernel cache key (a new Kiln may configure or build differently). */
import { readFileSync } from "node:fs";

let cached: string | undefined;

/** Kiln's version from its package.json (two levels up from src/kernel and dist/kernel). */
export function kilnVersion(): string {
  if (cached) return cached;
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    cached = pkg.version ?? "unknown";
  } catch {
    cached = "unknown";
  }
  return cached;
}
