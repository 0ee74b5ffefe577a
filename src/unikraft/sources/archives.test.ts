import assert from "node:assert/strict";
import { test } from "node:test";
import { archiveAliases, parseArchiveNeeds } from "./archives.js";

test("lib-musl's fetch call: variables expanded, file name from the URL", () => {
  // The shape of lib-musl's Makefile.uk (RELEASE-0.16.x), reduced.
  const text = [
    "$(eval $(call addlib_s,libmusl,$(CONFIG_LIBMUSL)))",
    "LIBMUSL_VERSION=1.2.3",
    "LIBMUSL_URL=https://www.musl-libc.org/releases/musl-$(LIBMUSL_VERSION).tar.gz",
    "LIBMUSL_PATCHDIR=$(LIBMUSL_BASE)/patches",
    "$(eval $(call fetch,libmusl,$(LIBMUSL_URL)))",
    "$(eval $(call patch,libmusl,$(LIBMUSL_PATCHDIR),musl-$(LIBMUSL_VERSION)))",
  ].join("\n");
  assert.deepEqual(parseArchiveNeeds(text), [
    {
      lib: "libmusl",
      url: "https://www.musl-libc.org/releases/musl-1.2.3.tar.gz",
      altUrls: [],
      fileName: "musl-1.2.3.tar.gz",
    },
  ]);
});

test("fetchas, fetch2, checksums, continuation lines and comments", () => {
  const text = [
    "LIBFOO_VERSION := 3.4",
    "# $(eval $(call fetch,libold,https://example.org/old.tar.gz))",
    "LIBFOO_ORIGIN_SHA256 = ABCDEF0123",
    "$(eval $(call fetchas2,libfoo,https://a.example/foo-$(LIBFOO_VERSION).zip,\\",
    "  https://b.example/foo.zip,foo.zip))",
    "$(eval $(call fetch2,libbar,https://a.example/bar-1.tar.xz,https://b.example/bar-1.tar.xz))",
  ].join("\n");
  assert.deepEqual(parseArchiveNeeds(text), [
    {
      lib: "libfoo",
      url: "https://a.example/foo-3.4.zip",
      altUrls: ["https://b.example/foo.zip"],
      fileName: "foo.zip",
      checksum: { algorithm: "sha256", hex: "abcdef0123" },
    },
    {
      lib: "libbar",
      url: "https://a.example/bar-1.tar.xz",
      altUrls: ["https://b.example/bar-1.tar.xz"],
      fileName: "bar-1.tar.xz",
    },
  ]);
});

test("Debian's .orig name is an alias for an upstream tarball", () => {
  assert.deepEqual(archiveAliases("musl-1.2.3.tar.gz"), ["musl-1.2.3.tar.gz", "musl_1.2.3.orig.tar.gz"]);
  assert.deepEqual(archiveAliases("sqlite-amalgamation-3400100.zip"), [
    "sqlite-amalgamation-3400100.zip",
    "sqlite-amalgamation_3400100.orig.zip",
  ]);
  assert.deepEqual(archiveAliases("blob.bin"), ["blob.bin"]);
});
