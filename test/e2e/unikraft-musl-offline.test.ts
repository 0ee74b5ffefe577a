/**
 * An application using lib-musl builds with `--offline` from a mirror
 * directory against a real Unikraft tree, and boots under TCG. lib-musl
 * downloads the musl tarball at build time; Kiln serves it from the mirror.
 *
 * Needs KILN_TEST_UNIKRAFT (a Unikraft checkout, RELEASE-0.17.0) and
 * KILN_TEST_UNIKRAFT_MIRROR: a directory holding `lib-musl.git` (a clone of
 * unikraft/lib-musl whose `staging` matches the core) and
 * `archives/musl-1.2.3.tar.gz` (or Debian's `musl_1.2.3.orig.tar.gz`).
 * Slow (compiles musl: minutes); skipped with the reason when either is unset.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runKiln } from "../helpers/kiln.js";
import { bootUnikraft, UNIKRAFT_TREE as TREE } from "../helpers/unikraft.js";

const MIRROR = process.env.KILN_TEST_UNIKRAFT_MIRROR;
const skip = !TREE
  ? "KILN_TEST_UNIKRAFT is unset (point it at a Unikraft checkout)"
  : !MIRROR
    ? "KILN_TEST_UNIKRAFT_MIRROR is unset (a directory with lib-musl.git and archives/musl-1.2.3.tar.gz)"
    : false;

describe("real Unikraft: lib-musl offline from a mirror", { skip }, () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "kiln-uk-musl-"));
    writeFileSync(
      join(dir, "main.c"),
      '#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\nint main(void)\n{\n\tchar *s = strdup("Hello from musl!");\n\tprintf("%s %zu\\n", s, strlen(s));\n\tfree(s);\n\treturn 0;\n}\n',
    );
    writeFileSync(
      join(dir, "Makefile.uk"),
      "$(eval $(call addlib,appmusl))\nAPPMUSL_SRCS-y += $(APPMUSL_BASE)/main.c\n",
    );
    writeFileSync(
      join(dir, "Kraftfile"),
      [
        "specification: '0.6'",
        "name: muslhello",
        "unikraft:",
        `  source: ${TREE}`,
        "libraries:",
        "  musl:",
        "    source: https://github.com/unikraft/lib-musl",
        "    version: staging",
        "targets:",
        "  - qemu/x86_64",
        "",
      ].join("\n"),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("offline without a mirror names what is missing", async () => {
    const r = await runKiln(["build", dir, "--offline"], {
      env: { KILN_HOME: join(dir, "empty-home"), KILN_MIRRORS: "" },
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error: .*not found offline/);
    assert.match(r.stderr, /lib-musl/);
  });

  test("builds offline from the mirror (git and the musl tarball) and boots", async (t) => {
    const started = Date.now();
    const r = await runKiln(["build", dir, "--offline", "--with-mirror", MIRROR!], {
      env: { KILN_HOME: join(dir, "home") },
      timeoutMs: 1_800_000,
    });
    assert.equal(r.code, 0, r.stderr);
    t.diagnostic(`musl build: ${Date.now() - started} ms`);
    const kernel = join(dir, ".unikraft/build/muslhello_qemu-x86_64");
    assert.match(await bootUnikraft(kernel), /Hello from musl! 16/);
  });
});
