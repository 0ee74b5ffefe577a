// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings test `${VAR}` interpolation
import assert from "node:assert/strict";
import { test } from "node:test";
import { kconfigValue } from "./reader.js";
import { interpolate, splitShellWords } from "./text.js";

test("interpolate: ${VAR}, ${VAR:-default}, $$ and bare $NAME", () => {
  const env = { HOST: "db", EMPTY: "" };
  assert.deepEqual(interpolate("${HOST}:5432", env), { value: "db:5432", unset: [] });
  assert.equal(interpolate("${PORT:-8080}", env).value, "8080");
  // As in docker-compose, `:-` also covers a set-but-empty variable.
  assert.equal(interpolate("${EMPTY:-x}", env).value, "x");
  assert.equal(interpolate("cost $$5 and $HOME", env).value, "cost $5 and $HOME");
  assert.deepEqual(interpolate("a${MISSING}b", env), { value: "ab", unset: [{ name: "MISSING", index: 1 }] });
  assert.equal(interpolate("x${HOST", env).error?.index, 1);
  assert.match(interpolate("${a-b}", env).error?.message ?? "", /`a-b` is not a variable name/);
});

test("splitShellWords: quotes, escapes and errors as a POSIX shell reads them", () => {
  assert.deepEqual(splitShellWords(`/bin/app  --name "hello world" 'it''s' a\\ b "q\\"x" ""`).words, [
    "/bin/app",
    "--name",
    "hello world",
    "its",
    "a b",
    'q"x',
    "",
  ]);
  assert.deepEqual(splitShellWords(`'$HOME' "\\$x \\n"`).words, ["$HOME", "$x \\n"]);
  assert.deepEqual(splitShellWords("   ").words, []);
  const bad = splitShellWords(`run 'unclosed`);
  assert.equal(bad.error?.index, 4);
  assert.match(bad.error?.message ?? "", /unterminated single quote/);
  assert.match(splitShellWords(`a "b`).error?.message ?? "", /unterminated double quote/);
  assert.match(splitShellWords("a\\").error?.message ?? "", /trailing backslash/);
});

test("kconfigValue: y/n/m and numbers as written, strings quoted once", () => {
  assert.equal(kconfigValue("y"), "y");
  assert.equal(kconfigValue("m"), "m");
  assert.equal(kconfigValue("-12"), "-12");
  assert.equal(kconfigValue("0x400000000"), "0x400000000");
  assert.equal(kconfigValue('"initrd"'), '"initrd"');
  assert.equal(kconfigValue("embedded"), '"embedded"');
  assert.equal(kconfigValue("PATH=/bin"), '"PATH=/bin"');
  assert.equal(kconfigValue('say "hi" \\o/'), '"say \\"hi\\" \\\\o/"');
  assert.equal(kconfigValue(""), '""');
});
