/**
 * Kconfig syntax and semantic errors: each fixture asserts the message and
 * the position (`file:line:col`), and recursive dependencies are reported
 * with the same lines Linux 6.1's conf prints for the same files.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isKilnError, type KilnError } from "../../src/core/errors.js";
import { parseKconfig } from "../../src/kconfig/index.js";
import { memoryHost } from "./fixtures.js";

function parseError(files: Record<string, string>): KilnError {
  try {
    parseKconfig("Kconfig", memoryHost(files));
  } catch (e) {
    if (isKilnError(e)) return e;
    throw e;
  }
  assert.fail("expected a KilnError");
}

test("unknown statement: message and file:line:col", () => {
  const e = parseError({ Kconfig: 'config A\n\tbool "a"\n\n  foo bar\n' });
  assert.equal(e.code, "KCONFIG_SYNTAX");
  assert.equal(e.message, 'Kconfig:4:3: unknown statement "foo"');
  assert.deepEqual(e.location, { file: "Kconfig", line: 4, col: 3 });
  assert.deepEqual(e.details, ["  foo bar"]);
});

test("a prompt's `if` without an expression points at the end of the line", () => {
  const e = parseError({ Kconfig: 'config B\n\tbool "b" if\n' });
  assert.equal(e.message, "Kconfig:2:13: expected an expression");
});

test("a block closed by the wrong end keyword, and a block never closed", () => {
  const e1 = parseError({ Kconfig: 'if A\nconfig B\n\tbool "b"\nendmenu\n' });
  assert.equal(e1.message, "Kconfig:4:1: unexpected 'endmenu' within if block");
  const e2 = parseError({ Kconfig: 'menu "M"\nconfig B\n\tbool "b"\n' });
  assert.equal(e2.message, "Kconfig:1:1: missing 'endmenu' for the block opened here");
});

test("errors in sourced files name that file; a missing source names the including line", () => {
  const e1 = parseError({
    Kconfig: 'source "sub/Kconfig"\n',
    "sub/Kconfig": "config X\n\tbool\n\tdepends on (A\n",
  });
  assert.equal(e1.message, "sub/Kconfig:3:15: expected ')'");
  const e2 = parseError({ Kconfig: '\nsource "nope/Kconfig"\n' });
  assert.equal(e2.message, 'Kconfig:2: can\'t open file "nope/Kconfig"');
  assert.deepEqual(e2.location, { file: "Kconfig", line: 2, col: 1 });
});

test("$(error-if,…) stops the parse at its line; an unterminated reference is an error", () => {
  const e = parseError({
    Kconfig: 'config A\n\tbool "a"\n$(error-if,y,Sorry$(comma) not supported)\ncomma := ,\n',
  });
  assert.equal(e.code, "KCONFIG_MACRO");
  assert.equal(e.message, "Kconfig:3: Sorry not supported");
  const e2 = parseError({ Kconfig: 'config A\n\tstring "a"\n\tdefault "$(foo"\n' });
  assert.equal(e2.message, "Kconfig:3: unterminated reference to 'foo\"': missing ')'");
});

test("recursive dependencies are reported as conf reports them", () => {
  const e1 = parseError({
    Kconfig: 'config A\n\tbool "a"\n\tdepends on B\n\nconfig B\n\tbool "b"\n\tdepends on A\n',
  });
  assert.equal(e1.code, "KCONFIG_RECURSIVE_DEP");
  assert.equal(e1.message, "Kconfig:5:error: recursive dependency detected!");
  assert.deepEqual(e1.details.slice(0, 2), [
    "Kconfig:5:\tsymbol B depends on A",
    "Kconfig:1:\tsymbol A depends on B",
  ]);
  const e2 = parseError({
    Kconfig:
      'config A\n\tbool "a"\n\tselect B\n\nconfig B\n\tbool "b"\n\tdepends on A\n\nconfig C\n\tbool "c"\n\tdepends on B\n\tselect A\n',
  });
  assert.deepEqual(e2.details, [
    "Kconfig:5:\tsymbol B depends on A",
    "Kconfig:1:\tsymbol A is selected by C",
    "Kconfig:9:\tsymbol C depends on B",
    "For a resolution refer to Documentation/kbuild/kconfig-language.rst",
    'subsection "Kconfig recursive dependency limitations"',
  ]);
});
