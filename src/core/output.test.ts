import assert from "node:assert/strict";
import { test } from "node:test";
import { progressWidth, stderrReporter, visibleLength } from "./output.js";

/** A stand-in terminal stream recording what is written. */
function stream(isTTY: boolean, columns?: number) {
  const written: string[] = [];
  const s = {
    isTTY,
    columns,
    write: (t: string) => {
      written.push(t);
      return true;
    },
  };
  return { s: s as unknown as NodeJS.WriteStream, written };
}

test("a terminal reporting 0 columns is drawn 79 wide, not cut to nothing", () => {
  assert.equal(progressWidth(0), 79);
  assert.equal(progressWidth(undefined), 79);
  assert.equal(progressWidth(40), 39);
  const { s, written } = stream(true, 0);
  const p = stderrReporter(s, { NO_COLOR: "1" }).progress("build");
  p.update("compiling lib/ukboot/boot.c", 3, 10);
  assert.equal(written[0], "\rbuild 3/10 compiling lib/ukboot/boot.c");
});

test("colour codes do not count toward the width: the visible line fills the terminal exactly", () => {
  const { s, written } = stream(true, 21);
  const p = stderrReporter(s, { FORCE_COLOR: "1" }).progress("fetch");
  p.update("a very long message that must be cut", 1, 2);
  const line = written[0]!.slice(1);
  assert.match(line, /\x1b\[36mfetch\x1b\[39m/);
  assert.equal(visibleLength(line), 20);
  assert.equal(line.replace(/\x1b\[[0-9;]*m/g, ""), "fetch 1/2 a very lon");
  // A shorter update pads over the longer one by visible width, not by byte count.
  p.update("ok");
  assert.equal(written[1], `\r\x1b[36mfetch\x1b[39m ok${" ".repeat(12)}`);
});

test("TERM=dumb and --log-type basic: no \\r redraws, plain lines", () => {
  for (const [env, plain] of [
    [{ TERM: "dumb", NO_COLOR: "1" }, false],
    [{ TERM: "xterm", NO_COLOR: "1" }, true],
  ] as const) {
    const { s, written } = stream(true, 80);
    const p = stderrReporter(s, env, { plain }).progress("build");
    p.update("step one", 1, 2);
    p.done("built");
    assert.ok(
      written.every((w) => !w.includes("\r")),
      JSON.stringify(written),
    );
    assert.equal(written[0], "build 1/2 step one\n");
    assert.match(written.at(-1)!, /^build built \(\d+\.\d s\)\n$/);
  }
});

test("quiet: no notices and no progress; warnings still shown", () => {
  const { s, written } = stream(false);
  const r = stderrReporter(s, { NO_COLOR: "1" }, { level: "quiet" });
  r.info("notice");
  r.progress("build").update("x", 1, 2);
  r.warn("careful");
  assert.deepEqual(written, ["warning: careful\n"]);
});

test("without a terminal a progress step prints one line, when done, whatever its updates", () => {
  const { s: out, written } = stream(false, 80);
  const r = stderrReporter(out, { NO_COLOR: "1" });
  const p = r.progress("build app_qemu-x86_64");
  for (let i = 1; i <= 300; i++) p.update(`CC lib: f${i}.o (first build: total unknown)`, i);
  p.done("built");
  const lines = written
    .join("")
    .split("\n")
    .filter((l) => l !== "");
  assert.equal(lines.length, 1, written.join(""));
  assert.match(lines[0]!, /^build app_qemu-x86_64 built \(\d+\.\d s\)$/);
});

test("on a terminal the step redraws one line and ends it", () => {
  const { s: out, written } = stream(true, 80);
  const p = stderrReporter(out, { NO_COLOR: "1", TERM: "xterm" }).progress("Packing x.cpio");
  p.update("entries, 1 KiB", 1);
  p.update("entries, 2 KiB", 2);
  p.done("2 entries, 2 KiB");
  assert.equal(written.join("").split("\n").length, 2, JSON.stringify(written));
  assert.match(written.join(""), /\rPacking x\.cpio 2 entries, 2 KiB \(\d+\.\d s\)\s*\n$/);
});
