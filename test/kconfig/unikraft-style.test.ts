/**
 * A Unikraft-shaped tree in memory: paths built from make/environment
 * variables (`$(UK_BASE)`, `$(KCONFIG_DIR)`, `$(UK_APP)`), the generated list
 * of library Config.uk files Unikraft's Makefile writes, `rsource` relative
 * to the including file. Kraftfile-style kconfig values that do not survive
 * are reported with the reason a user can act on.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { mergeFragments, parseKconfig } from "../../src/kconfig/index.js";
import { memoryHost } from "./fixtures.js";

const FILES: Record<string, string> = {
  "/uk/Config.uk": [
    'mainmenu "Unikraft/$(UK_FULLVERSION) Configuration"',
    "",
    "config UK_FULLVERSION",
    "\tstring",
    '\tdefault "$(UK_FULLVERSION)"',
    "",
    'source "$(UK_BASE)/arch/Config.uk"',
    "",
    'menu "Library Configuration"',
    'source "$(KCONFIG_DIR)/libs.uk"',
    "endmenu",
    "",
    'menu "Application Options"',
    'source "$(UK_APP)/Config.uk"',
    "endmenu",
    "",
  ].join("\n"),
  "/uk/arch/Config.uk": [
    "choice",
    '\tprompt "Architecture"',
    "\tdefault ARCH_X86_64",
    "config ARCH_X86_64",
    '\tbool "x86_64"',
    "config ARCH_ARM_64",
    '\tbool "arm64"',
    "endchoice",
    "",
    "config HAVE_X86PKU",
    "\tbool",
    "",
  ].join("\n"),
  "/build/kconfig/libs.uk": 'source "/uk/lib/ukrandom/Config.uk"\nsource "/libs/musl/Config.uk"\n',
  "/uk/lib/ukrandom/Config.uk": [
    "menuconfig LIBUKRANDOM",
    '\tbool "ukrandom: random number generator"',
    "\tdepends on ARCH_X86_64 && (HAVE_X86PKU)",
    "if LIBUKRANDOM",
    "config LIBUKRANDOM_SEED",
    '\thex "seed"',
    "\tdefault 0x1234",
    "endif",
    "",
  ].join("\n"),
  "/libs/musl/Config.uk": 'menuconfig LIBMUSL\n\tbool "musl: a C standard library"\n\tdefault n\n',
  "/app/Config.uk": 'rsource "extra.uk"\n',
  "/app/extra.uk": 'config APP_GREETING\n\tstring "greeting"\n\tdefault "hello"\n',
};

const ENV = { UK_BASE: "/uk", KCONFIG_DIR: "/build/kconfig", UK_APP: "/app", UK_FULLVERSION: "0.17.0" };

test("Unikraft-style Config.uk tree: variable paths, generated library list, rsource", () => {
  const tree = parseKconfig("/uk/Config.uk", memoryHost(FILES, ENV));
  assert.deepEqual(tree.files, [
    "/uk/Config.uk",
    "/uk/arch/Config.uk",
    "/build/kconfig/libs.uk",
    "/uk/lib/ukrandom/Config.uk",
    "/libs/musl/Config.uk",
    "/app/Config.uk",
    "/app/extra.uk",
  ]);
  const kraftfileKconfig = 'CONFIG_LIBUKRANDOM=y\nCONFIG_LIBMUSL=y\nCONFIG_APP_GREETING="hi"\n';
  const r = mergeFragments(tree, { name: ".config", text: "" }, [
    { name: "Kraftfile", text: kraftfileKconfig },
  ]);
  const text = r.config.dotconfig();
  assert.ok(
    text.startsWith("#\n# Automatically generated file; DO NOT EDIT.\n# Unikraft/0.17.0 Configuration\n#\n"),
  );
  assert.match(text, /^CONFIG_LIBMUSL=y$/m);
  assert.match(text, /^CONFIG_APP_GREETING="hi"$/m);
  assert.match(text, /^# end of Application Options$/m);
  assert.deepEqual(r.dropped, [
    {
      symbol: "LIBUKRANDOM",
      requested: "CONFIG_LIBUKRANDOM=y",
      actual: "",
      reason: "depends on ARCH_X86_64 && HAVE_X86PKU — HAVE_X86PKU is n",
    },
  ]);
});
