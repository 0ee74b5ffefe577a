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
