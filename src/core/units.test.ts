import assert from "node:assert/strict";
import { test } from "node:test";
import { isKilnError } from "./errors.js";
import { formatBytes, parseMemMiB, parseSize } from "./units.js";

test("parseSize reads binary and decimal units", () => {
  assert.equal(parseSize("512M"), 512 * 1024 ** 2);
  assert.equal(parseSize("1GiB"), 1024 ** 3);
  assert.equal(parseSize("100MB"), 100_000_000);
  assert.equal(parseSize("4096"), 4096);
  assert.equal(parseSize("1.5k"), 1536);
});

test("parseMemMiB treats a bare number as MiB, like qemu -m", () => {
  assert.equal(parseMemMiB("256"), 256);
  assert.equal(parseMemMiB("1G"), 1024);
  assert.equal(parseMemMiB("1500k"), 2);
});

test("parseSize rejects junk with the value seen", () => {
  assert.throws(
    () => parseSize("12 parsecs"),
    (e) => isKilnError(e, "INVALID_SIZE") && e.message.includes('"12 parsecs"') && e.hint !== undefined,
  );
});

test("formatBytes", () => {
  assert.equal(formatBytes(320), "320 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(300 * 1024 ** 2), "300 MiB");
});
