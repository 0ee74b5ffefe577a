/**
 * Malformed Kraftfiles: one fixture per mistake under
 * test/fixtures/kraftfile/bad/, each with every diagnostic it must produce
 * (severity, code, line:column and message). A file whose table lists only
 * warnings must still load; any error means no project.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { formatDiagnostic, readProject } from "../../src/kraftfile/index.js";
import { REPO_ROOT } from "../helpers/kiln.js";

const BAD = join(REPO_ROOT, "test/fixtures/kraftfile/bad");

type Expected = [severity: "error" | "warning", code: string, at: string, message: string];

/** Messages are matched as prefixes (a few go on to name absolute paths). */
const CASES: Record<string, Expected[]> = {
  "bad-indent.Kraftfile": [
    ["error", "yaml-syntax", "4:1", "invalid YAML: All mapping items must start at the same column"],
  ],
  "binary.bin": [
    ["error", "not-text", "1:1", "not a text file: found a NUL byte at byte 7; a Kraftfile is UTF-8 YAML"],
  ],
  "cmd-map.Kraftfile": [
    ["error", "invalid-type", "6:3", "`cmd` must be a list of arguments or a command string, got a mapping"],
  ],
  "cmd-unterminated.Kraftfile": [["error", "invalid-cmd", "5:29", "unterminated single quote in command"]],
  "comments-only.Kraftfile": [
    [
      "error",
      "empty-file",
      "1:1",
      "the Kraftfile is empty: it must be a YAML mapping with at least `spec` and `unikraft`, `template` or `runtime`",
    ],
  ],
  "duplicate-kconfig-key.Kraftfile": [
    [
      "error",
      "duplicate-key",
      "5:5",
      "duplicate key `CONFIG_LIBUKDEBUG` with a different value than on line 4",
    ],
  ],
  "duplicate-key.Kraftfile": [
    ["error", "duplicate-key", "4:1", "duplicate key `name` with a different value than on line 2"],
  ],
  "duplicate-target-names.Kraftfile": [
    [
      "error",
      "duplicate-target",
      "7:5",
      "target name `one` is used twice (first on line 4); target names must be unique",
    ],
  ],
  "duplicate-targets.Kraftfile": [
    [
      "error",
      "duplicate-target",
      "7:5",
      "target name `app_qemu-x86_64` is used twice (first on line 5); target names must be unique",
    ],
  ],
  "empty-targets.Kraftfile": [
    ["error", "missing-target", "3:1", "`targets` is empty: a project needs at least one target"],
  ],
  "empty.Kraftfile": [
    [
      "error",
      "empty-file",
      "1:1",
      "the Kraftfile is empty: it must be a YAML mapping with at least `spec` and `unikraft`, `template` or `runtime`",
    ],
  ],
  "env-string.Kraftfile": [
    [
      "error",
      "invalid-type",
      "5:6",
      "`env` must be a mapping (KEY: value) or a list (- KEY=value), got a string (`HOME=/root`)",
    ],
  ],
  "interpolation-bad-name.Kraftfile": [
    [
      "error",
      "invalid-interpolation",
      "6:19",
      "invalid variable reference `$" + "{1ST}`: `1ST` is not a variable name",
    ],
  ],
  "interpolation-unterminated.Kraftfile": [
    [
      "error",
      "invalid-interpolation",
      "5:26",
      "unterminated variable reference `$" + "{PORT`: `$" + "{` needs a closing `}`",
    ],
  ],
  "invalid-utf8.bin": [
    [
      "error",
      "not-text",
      "1:1",
      "not a text file: found invalid UTF-8 at byte 20; a Kraftfile is UTF-8 YAML",
    ],
  ],
  "kconfig-conflict.Kraftfile": [
    [
      "error",
      "duplicate-kconfig",
      "9:9",
      'kconfig option `CONFIG_LIBVFSCORE_ROOTFS` is set twice in target 1 with different values: `"9pfs"` (line 8) and `"initrd"`',
    ],
  ],
  "kconfig-empty-value.Kraftfile": [
    [
      "error",
      "invalid-kconfig",
      "4:7",
      "kconfig entries must be `CONFIG_NAME=value`, got `CONFIG_LIBUKDEBUG=` in `unikraft`",
    ],
  ],
  "kconfig-list-value.Kraftfile": [
    [
      "error",
      "invalid-kconfig",
      "4:24",
      "kconfig option `CONFIG_LIBUKDEBUG` in `unikraft` needs a single value (y, n, a number or a string), got a list",
    ],
  ],
  "kconfig-lowercase.Kraftfile": [
    [
      "error",
      "invalid-kconfig",
      "6:7",
      "kconfig option names must match CONFIG_[A-Z0-9_]+, got `config_libposix_sysinfo` in `unikraft`",
    ],
  ],
  "kconfig-no-equals.Kraftfile": [
    [
      "error",
      "invalid-kconfig",
      "4:7",
      "kconfig entries must be `CONFIG_NAME=value`, got `CONFIG_LIBUKDEBUG` in `unikraft`",
    ],
  ],
  "kconfig-no-prefix.Kraftfile": [
    [
      "error",
      "invalid-kconfig",
      "4:5",
      "kconfig option names must match CONFIG_[A-Z0-9_]+, got `LIBUKDEBUG` in `unikraft`",
    ],
  ],
  "kconfig-null-value.Kraftfile": [
    [
      "error",
      "invalid-kconfig",
      "4:5",
      "kconfig option `CONFIG_LIBUKDEBUG` in `unikraft` needs a single value (y, n, a number or a string), got nothing (null)",
    ],
  ],
  "kconfig-string.Kraftfile": [
    [
      "error",
      "invalid-type",
      "3:12",
      "kconfig in `unikraft` must be a mapping (CONFIG_X: y) or a list (- CONFIG_X=y), got a string (`CONFIG_LIBUKDEBUG=y`)",
    ],
  ],
  "libraries-list.Kraftfile": [
    [
      "error",
      "invalid-type",
      "6:3",
      "`libraries` must be a mapping of library names (e.g. `musl: stable`), got a list",
    ],
  ],
  "library-bad-name.Kraftfile": [
    [
      "error",
      "invalid-key",
      "6:3",
      "library names must be letters, digits, `.`, `_` or `-`, got a string (`lib/musl`)",
    ],
  ],
  "library-bad-type.Kraftfile": [
    [
      "error",
      "invalid-type",
      "6:9",
      "library `musl` must be a version, a source, or a mapping with source/version/kconfig, got a list",
    ],
  ],
  "list-top.Kraftfile": [
    ["error", "invalid-type", "1:1", "a Kraftfile must be a YAML mapping of keys, got a list"],
  ],
  "name-with-space.Kraftfile": [
    [
      "error",
      "invalid-name",
      "2:7",
      "`name` must be one word without spaces, slashes, quotes or `$` (it names files and CONFIG_UK_NAME), got `my app`",
    ],
  ],
  "no-targets.Kraftfile": [
    [
      "error",
      "missing-target",
      "1:1",
      "no `targets`: a project that builds Unikraft needs at least one target",
    ],
  ],
  "not-yaml.Kraftfile": [
    [
      "error",
      "yaml-syntax",
      "3:1",
      "invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]",
    ],
  ],
  "outdir-list.Kraftfile": [["error", "invalid-type", "5:9", "`outdir` must be a string, got a list"]],
  "rootfs-format.Kraftfile": [
    ["error", "invalid-value", "7:11", "`rootfs.format` must be cpio or erofs, got `ext4`"],
  ],
  "rootfs-list.Kraftfile": [
    [
      "error",
      "invalid-type",
      "5:9",
      "`rootfs` must be a path, an image reference or a mapping {source, format, type}, got a list",
    ],
  ],
  "rootfs-no-source.Kraftfile": [["error", "missing-required", "6:3", "`rootfs` has no `source`"]],
  "runtime-and-unikraft.Kraftfile": [
    [
      "error",
      "conflicting-keys",
      "3:1",
      "`unikraft` cannot be combined with `runtime`: a runtime is a prebuilt kernel",
    ],
  ],
  "runtime-in-v05.Kraftfile": [
    [
      "error",
      "conflicting-keys",
      "2:1",
      "`unikraft` cannot be combined with `runtime`: a runtime is a prebuilt kernel",
    ],
    ["error", "newer-key", "3:1", "`runtime` needs Kraftfile spec v0.6 or later, got v0.5"],
  ],
  "runtime-list.Kraftfile": [
    [
      "error",
      "invalid-type",
      "2:10",
      "`runtime` must be an image reference such as `base:latest`, got a list",
    ],
  ],
  "scalar-top.Kraftfile": [
    [
      "error",
      "invalid-type",
      "1:1",
      "a Kraftfile must be a YAML mapping of keys, got a string (`just some words`)",
    ],
  ],
  "source-missing-dir.Kraftfile": [
    ["error", "invalid-source", "3:11", "source `./no-such-unikraft` is neither an existing directory"],
  ],
  "spec-list.Kraftfile": [["error", "invalid-type", "1:7", "`spec` must be a string, got a list"]],
  "spec-twice.Kraftfile": [
    ["error", "conflicting-keys", "2:1", "both `spec` and `specification` are given; they are the same key"],
  ],
  "target-arch-twice.Kraftfile": [
    [
      "error",
      "conflicting-keys",
      "5:5",
      "target 1 gives both `architecture` and `arch`; they are the same key",
    ],
  ],
  "target-format.Kraftfile": [
    ["error", "invalid-target", "5:5", "target 2 must be written `platform/architecture`, got `qemu-x86_64`"],
  ],
  "target-no-arch.Kraftfile": [["error", "missing-required", "4:5", "target 1 has no `architecture`"]],
  "target-number.Kraftfile": [
    ["error", "invalid-target", "4:5", "target 1 must be written `platform/architecture`, got `42`"],
  ],
  "target-typo.Kraftfile": [
    ["warning", "unknown-key", "4:5", "unknown key `platfrom` in target 1; did you mean `platform`?"],
    ["error", "missing-required", "4:5", "target 1 has no `platform`"],
  ],
  "targets-string.Kraftfile": [
    [
      "error",
      "invalid-type",
      "3:10",
      "`targets` must be a list of `platform/architecture` entries (e.g. `- qemu/x86_64`), got a string (`qemu/x86_64`)",
    ],
  ],
  "unknown-arch.Kraftfile": [
    ["error", "unknown-architecture", "5:19", "unknown architecture `x86-64`; did you mean `x86_64`?"],
  ],
  "unknown-key.Kraftfile": [
    ["warning", "unknown-key", "5:1", "unknown key `librarys` in the Kraftfile; did you mean `libraries`?"],
  ],
  "unknown-platform.Kraftfile": [
    ["error", "unknown-platform", "4:5", "unknown platform `qemuu`; did you mean `qemu`?"],
  ],
  "unknown-spec.Kraftfile": [
    [
      "error",
      "unknown-spec",
      "1:7",
      "unsupported Kraftfile specification `v0.9`; Kiln reads v0.5, v0.6 and v0.7",
    ],
  ],
  "unset-variable.Kraftfile": [
    ["warning", "unset-variable", "3:12", "variable `UK_VERSION` is not set; using an empty string"],
    ["error", "invalid-value", "3:12", "`unikraft` version must not be empty"],
  ],
  "v05-no-unikraft.Kraftfile": [
    ["error", "missing-required", "1:1", "a spec v0.5 Kraftfile must have a `unikraft` key"],
  ],
  "v06-nothing.Kraftfile": [
    [
      "error",
      "missing-required",
      "1:1",
      "a Kraftfile needs one of `unikraft`, `template` or `runtime`; found none",
    ],
  ],
  "version-conflict.Kraftfile": [
    [
      "error",
      "conflicting-version",
      "4:12",
      "`unikraft` names two versions: `v0.17.0` in its source URL and `v0.16.0` in `version`",
    ],
  ],
  "env-bad-name.Kraftfile": [
    [
      "error",
      "invalid-key",
      "7:3",
      "`env` key `1BAD` is not an environment variable name (letters, digits and `_`, not starting with a digit)",
    ],
    [
      "error",
      "invalid-key",
      "8:3",
      "`env` key `A B` is not an environment variable name (letters, digits and `_`, not starting with a digit)",
    ],
  ],
  "volume-mode.Kraftfile": [
    ["error", "invalid-volume", "6:5", "volume 1 mode must be `ro` or `rw`, got `rx`"],
  ],
  "volume-no-destination.Kraftfile": [["error", "missing-required", "6:5", "volume 1 has no `destination`"]],
  "volume-readonly-string.Kraftfile": [
    ["error", "invalid-type", "8:15", "volume 1 readonly must be true or false, got a string (`yes`)"],
  ],
  "volume-relative-dest.Kraftfile": [
    [
      "error",
      "invalid-volume",
      "6:5",
      "volume 1 destination must be an absolute path in the guest, got `data`",
    ],
  ],
  "two-documents.Kraftfile": [
    ["error", "yaml-syntax", "4:1", "a Kraftfile is one YAML document, but a second one starts here (`---`)"],
  ],
  "library-boolean.Kraftfile": [
    [
      "error",
      "invalid-version",
      "6:9",
      "library `lwip` must be a version, a source or a mapping, got a boolean (`true`); a boolean is not a version",
    ],
    [
      "error",
      "invalid-version",
      "8:14",
      "library `musl` version must be a branch, tag or commit, got a boolean (`false`)",
    ],
  ],
  "env-list-repeat.Kraftfile": [
    [
      "warning",
      "duplicate-entry",
      "8:5",
      "`env` sets `A` twice: `1` on line 6 and `2` on line 8; the last one wins",
    ],
    ["warning", "duplicate-entry", "9:5", "`env` sets `B` twice to the same value `x` (lines 7 and 9)"],
  ],
  "volume-bare-source.Kraftfile": [
    [
      "warning",
      "volume-at-root",
      "6:5",
      "volume 1 `/a` has no `:destination`; it is mounted at `/`, the guest's root filesystem (as KraftKit does)",
    ],
  ],
  "url-ref-and-query.Kraftfile": [
    [
      "error",
      "conflicting-version",
      "6:6",
      "source URL `https://github.com/unikraft/lib-e.git@v2?branch=main` names two versions: `?branch=main` and `@v2`",
    ],
  ],
  "flow-list-at-eof.Kraftfile": [
    [
      "error",
      "yaml-syntax",
      "4:18",
      "invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]",
    ],
  ],
  "quote-at-eof.Kraftfile": [["error", "yaml-syntax", "2:18", "invalid YAML: Missing closing 'quote"]],
  "target-command-v06.Kraftfile": [
    [
      "warning",
      "older-key",
      "6:5",
      "`command` in target 1 is a Kraftfile spec v0.5 key; spec v0.6 sets it with the top-level `cmd`",
    ],
  ],
  "target-command-map.Kraftfile": [
    [
      "error",
      "invalid-type",
      "6:14",
      "target 1 `command` must be a list of arguments or a command string, got a mapping",
    ],
  ],
  "target-initrd-format.Kraftfile": [
    [
      "error",
      "invalid-value",
      "8:15",
      "target 1 `initrd` format must be `newc` (or `cpio`), got `odc`; KraftKit writes no other CPIO format",
    ],
  ],
  "target-initrd-input.Kraftfile": [
    [
      "error",
      "invalid-initrd",
      "8:11",
      "target 1 `initrd` input entries must be `HOST_PATH[:/PATH_IN_ARCHIVE]`, got `./rootfs:etc`",
    ],
    [
      "error",
      "invalid-type",
      "9:17",
      "target 1 `initrd` compress must be true or false, got a string (`yes`)",
    ],
  ],
  "tab-indent.Kraftfile": [
    ["error", "yaml-syntax", "4:1", "invalid YAML: Tabs are not allowed as indentation"],
  ],
};

test("the table covers every bad fixture, and there are at least forty", () => {
  assert.deepEqual(Object.keys(CASES).sort(), readdirSync(BAD).sort());
  assert.ok(Object.keys(CASES).length >= 40);
});

for (const [name, expected] of Object.entries(CASES)) {
  test(`bad Kraftfile ${name}`, async () => {
    const file = join(BAD, name);
    const r = await readProject(file, { env: {} });
    const got = r.diagnostics.map((d) => [d.severity, d.code, `${d.line}:${d.col}`, d.message]);
    assert.equal(got.length, expected.length, `diagnostics: ${JSON.stringify(got, null, 1)}`);
    expected.forEach(([severity, code, at, message], i) => {
      const g = got[i]!;
      assert.deepEqual(g.slice(0, 3), [severity, code, at], `diagnostic ${i + 1}`);
      assert.ok(String(g[3]).startsWith(message), `message ${i + 1}: ${g[3]}`);
    });
    const hasError = expected.some(([s]) => s === "error");
    assert.equal(r.project === undefined, hasError);
    for (const d of r.diagnostics) {
      assert.equal(d.file, file);
      // Every diagnostic prints its position, and a caret when the line has text.
      const text = formatDiagnostic(d);
      assert.ok(text.startsWith(`${file}:${d.line}:${d.col}: ${d.severity}: `), text);
      if (d.sourceLine !== undefined) assert.match(text, /\n\s*\| *\^/);
      // YAML syntax errors say what to do and show the line, even at the end of the file.
      if (d.code === "yaml-syntax") {
        assert.ok(d.hint, `${name}: a hint for ${d.message}`);
        assert.ok(d.sourceLine?.trim(), `${name}: a source line for ${d.message}`);
        assert.match(text, /\nhint: /);
      }
    }
  });
}
