import assert from "node:assert/strict";
import { it } from "node:test";
import type { Key as InkKey } from "ink";
import { keyOf } from "./terminal.js";

const none: InkKey = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

it("maps ink's key reports to the menu's key names", () => {
  assert.deepEqual(keyOf("", { ...none, pageDown: true }), ["pagedown"]);
  assert.deepEqual(keyOf("", { ...none, home: true }), ["home"]);
  assert.deepEqual(keyOf("", { ...none, return: true }), ["enter"]);
  assert.deepEqual(keyOf("", { ...none, escape: true }), ["escape"]);
  assert.deepEqual(keyOf("", { ...none, delete: true }), ["backspace"]);
  assert.deepEqual(keyOf("c", { ...none, ctrl: true }), ["ctrl-c"]);
  assert.deepEqual(keyOf("x", { ...none, ctrl: true }), []);
  // pasted text arrives as one report: each character is a key
  assert.deepEqual(keyOf("ab ", none), ["a", "b", " "]);
  // a line and its Enter in one read (fast typing, a loaded machine, a paste)
  assert.deepEqual(keyOf("^KVM$\r", none), ["^", "K", "V", "M", "$", "enter"]);
  assert.deepEqual(keyOf("a\tb\x7f\x01", none), ["a", "tab", "b", "backspace"]);
});
