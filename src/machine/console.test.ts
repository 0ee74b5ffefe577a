import assert from "node:assert/strict";
import { test } from "node:test";
import { escapeFilter } from "./console.js";

const text = (a: ReturnType<ReturnType<typeof escapeFilter>>) =>
  a.map((x) => ("stop" in x ? "<stop>" : x.send.toString("latin1"))).join("|");

test("plain input passes through; Ctrl-C stops the machine", () => {
  const f = escapeFilter();
  assert.equal(text(f(Buffer.from("ls\r"))), "ls\r");
  assert.equal(text(f(Buffer.from("ab\x03cd"))), "ab|<stop>|cd");
});

test("Ctrl-] c sends Ctrl-C to the guest, also split across reads; Ctrl-] q stops; Ctrl-] Ctrl-] is literal", () => {
  const f = escapeFilter();
  assert.equal(text(f(Buffer.from("x\x1d"))), "x");
  assert.equal(text(f(Buffer.from("cy"))), "\x03|y");
  assert.equal(text(f(Buffer.from("\x1dq"))), "<stop>");
  assert.equal(text(f(Buffer.from("\x1d\x1d"))), "\x1d");
});

test("prompts are recognized at the end of the output only", async () => {
  const { endsWithPrompt } = await import("./console.js");
  assert.equal(endsWithPrompt("boot\n/ # "), true);
  assert.equal(endsWithPrompt("SQLite version 3\nsqlite> "), true);
  assert.equal(endsWithPrompt("Booting from ROM..."), false);
  assert.equal(endsWithPrompt("/ # \n[ 1.0] late kernel line\n"), false);
});
