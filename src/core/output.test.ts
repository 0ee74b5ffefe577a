import assert from "node:assert/strict";
import { test } from "node:test";
import { stderrReporter } from "./output.js";

function stream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const s = {
    isTTY,
    columns: 80,
    text: "",
    write(chunk: string) {
      s.text += chunk;
      return true;
    },
  };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

test("without a terminal a progress step prints one line, when done, whatever its updates", () => {
  const out = stream(false);
  const r = stderrReporter(out, { NO_COLOR: "1" });
  const p = r.progress("build app_qemu-x86_64");
  for (let i = 1; i <= 300; i++) p.update(`CC lib: f${i}.o (first build: total unknown)`, i);
  p.done("built");
  const lines = out.text.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, out.text);
  assert.match(lines[0]!, /^build app_qemu-x86_64 built \(\d+\.\d s\)$/);
});

test("on a terminal the step redraws one line and ends it", () => {
  const out = stream(true);
  const p = stderrReporter(out, { NO_COLOR: "1" }).progress("Packing x.cpio");
  p.update("entries, 1 KiB", 1);
  p.update("entries, 2 KiB", 2);
  p.done("2 entries, 2 KiB");
  assert.equal(out.text.split("\n").length, 2, JSON.stringify(out.text));
  assert.match(out.text, /\rPacking x\.cpio 2 entries, 2 KiB \(\d+\.\d s\)\s*\n$/);
});
