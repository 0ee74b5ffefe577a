import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { followFile } from "./console.js";

const tick = () => new Promise((r) => setTimeout(r, 3));

test("followFile: a file created later and written byte by byte arrives whole, in order, once", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-follow-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "console.log");
  const chunks: string[] = [];
  const f = followFile(path, (c) => chunks.push(c.toString("utf8")), { pollMs: 1000 });
  await tick();
  writeFileSync(path, "");
  const expected = Array.from({ length: 300 }, (_, i) => `line ${i}\n`).join("");
  // As QEMU writes a UART's output: many small appends, some while a read is under way.
  for (let i = 0; i < expected.length; i += 7) {
    appendFileSync(path, expected.slice(i, i + 7));
    if (i % 140 === 0) await tick();
  }
  await f.stop();
  assert.equal(chunks.join(""), expected);
});

test("followFile: starts at fromOffset; nothing is read after stop", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-follow-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "console.log");
  writeFileSync(path, "old\n");
  const chunks: string[] = [];
  const f = followFile(path, (c) => chunks.push(c.toString("utf8")), { fromOffset: 4 });
  appendFileSync(path, "new\n");
  await f.stop();
  appendFileSync(path, "after\n");
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(chunks.join(""), "new\n");
});
