/**
 * Kiln's own version, from its package.json. This module sits two levels
 * below the package root in src/, in dist/ and as a chunk of dist/bundle/,
 * so one relative URL finds package.json from all three.
 */
import { readFileSync } from "node:fs";

/** The version in Kiln's package.json. */
export function kilnVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}
