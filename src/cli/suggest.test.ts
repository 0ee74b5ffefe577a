import assert from "node:assert/strict";
import { test } from "node:test";
import { editDistance, suggest } from "./suggest.js";

const COMMANDS = [
  "validate",
  "inspect",
  "fetch",
  "build",
  "clean",
  "run",
  "ps",
  "logs",
  "stop",
  "rm",
  "rootfs",
];

test("transpositions are one edit", () => {
  assert.equal(editDistance("biuld", "build"), 1);
  assert.equal(editDistance("sotp", "stop"), 1);
  assert.equal(editDistance("start", "stop"), 3);
  assert.equal(editDistance("login", "logs"), 2);
});

test("did-you-mean: typos and transpositions, prefixes; never an unrelated command", () => {
  assert.equal(suggest("biuld", COMMANDS), "build");
  assert.equal(suggest("buidl", COMMANDS), "build");
  assert.equal(suggest("valdiate", COMMANDS), "validate");
  assert.equal(suggest("lgos", COMMANDS), "logs");
  assert.equal(suggest("insp", COMMANDS), "inspect");
  assert.equal(suggest("start", COMMANDS), undefined);
  assert.equal(suggest("login", COMMANDS), undefined);
  assert.equal(suggest("deploy", COMMANDS), undefined);
  assert.equal(suggest("r", COMMANDS), undefined);
});
