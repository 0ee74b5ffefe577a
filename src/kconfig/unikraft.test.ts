import assert from "node:assert/strict";
import { test } from "node:test";
import { defconfig } from "./ops.js";
import { parseKconfig } from "./parser.js";
import { configSubmenu, parseUnikraftVersionMk, type SubmenuFs, shellWords } from "./unikraft.js";

const fs = (dirs: Record<string, string[]>, files: string[]): SubmenuFs => ({
  isDir: (p) => p in dirs,
  isFile: (p) => files.includes(p),
  list: (p) => dirs[p] ?? [],
  realpath: (p) => p.replace("/link/", "/real/"),
});

test("config-submenu.sh's list: -r subdirectories, then -l, then -c, skipping dirs without Config.uk and excluded ones", () => {
  const r = configSubmenu(
    [
      "-q",
      "-o",
      "/b/kconfig/libs.uk",
      "-r",
      "/uk/lib/",
      "-l",
      "/uk/lib",
      "-c",
      "/ext/a::/link/b/",
      "-e",
      ":/uk/lib/c",
    ],
    fs({ "/uk/lib": ["a", "b", "c", "x"], "/uk/lib/a": [], "/uk/lib/b": [], "/uk/lib/c": [] }, [
      "/uk/lib/a/Config.uk",
      "/uk/lib/c/Config.uk",
      "/uk/lib/Config.uk",
      "/ext/a/Config.uk",
      "/link/b/Config.uk",
    ]),
  );
  assert.deepEqual(r, {
    path: "/b/kconfig/libs.uk",
    text: [
      "# Auto generated file. DO NOT EDIT",
      '# Skipped excluded "/uk/lib/c"',
      'source "/uk/lib/a/Config.uk"',
      'source "/uk/lib/Config.uk"',
      'source "/ext/a/Config.uk"',
      'source "/real/b/Config.uk"',
      "",
    ].join("\n"),
  });
});

test("config-submenu.sh with -t wraps the list in a menu, which stays when the app has no Config.uk", () => {
  const r = configSubmenu(
    ["-q", "-o", "/b/app.uk", "-t", "Application Options", "-l", "/app", "-e", ""],
    fs({}, []),
  );
  assert.equal(r?.text, '# Auto generated file. DO NOT EDIT\nmenu "Application Options"\nendmenu\n');
  assert.equal(configSubmenu(["-x", "y"], fs({}, [])), undefined);
});

test("shellWords splits the quoted words of Config.uk's $(shell,…) calls and refuses shell syntax", () => {
  assert.deepEqual(shellWords(`/uk/s.sh -q -o '/b/x.uk' -t "Application Options" -l ''`), [
    "/uk/s.sh",
    "-q",
    "-o",
    "/b/x.uk",
    "-t",
    "Application Options",
    "-l",
    "",
  ]);
  assert.equal(shellWords("test a = b && echo y"), undefined);
});

test("version.mk gives UK_FULLVERSION's release and the codename", () => {
  assert.deepEqual(
    parseUnikraftVersionMk(
      "UK_VERSION = 0\nUK_SUBVERSION = 17\nUK_EXTRAVERSION = 0\nUK_CODENAME = Calypso\n",
    ),
    { release: "0.17.0", codename: "Calypso" },
  );
});

const IMPLY_TREE = `
config ARM
	bool "arm"
config KVM
	bool "kvm"
	default y
	imply RTC
config RTC
	bool "rtc"
	depends on ARM
config N
	int "n"
	range 10 20
	default 40
config H
	hex "h"
	range 0x010 0x20
	default 0x1
`;

function run(sourceGlob: boolean, files: Record<string, string> = { Config: IMPLY_TREE }) {
  const tree = parseKconfig(
    "Config",
    {
      env: {},
      shell: () => "",
      readFile: (p) => files[p],
      glob: (g) => {
        const re = new RegExp(`^${g.replace(/\*/g, "[^/]*")}$`);
        return Object.keys(files).filter((f) => re.test(f));
      },
    },
    { sourceGlob },
  );
  return defconfig(tree, "").dotconfig();
}

test("Unikraft's dialect (Linux 5.2): an implied symbol with unmet dependencies is not written; 6.1 writes it as not set", () => {
  assert.doesNotMatch(run(true), /RTC/);
  assert.match(run(false), /^# CONFIG_RTC is not set$/m);
});

test("Unikraft's dialect clamps a value outside its range to the bound printed afresh (0x10 from 0x010)", () => {
  assert.match(run(true), /^CONFIG_H=0x10$/m);
  assert.match(run(false), /^CONFIG_H=0x010$/m);
  assert.match(run(true), /^CONFIG_N=20$/m);
});

test("Unikraft's `source` is a glob: a missing file is skipped, a pattern sources every match", () => {
  const files = {
    Config: 'source "missing/Config.uk"\nsource "lib/*/Config.uk"\n',
    "lib/a/Config.uk": 'config A\n\tbool "a"\n\tdefault y\n',
    "lib/b/Config.uk": 'config B\n\tbool "b"\n\tdefault y\n',
  };
  assert.match(run(true, files), /CONFIG_A=y\nCONFIG_B=y\n/);
  assert.throws(() => run(false, files), /missing\/Config\.uk/);
});

test("Unikraft's dialect writes no '# end of' line for a menu without entries; 6.1 does", () => {
  const files = {
    Config: 'menu "Empty"\nendmenu\nmenu "Full"\nconfig A\n\tbool "a"\n\tdefault y\nendmenu\n',
  };
  assert.equal(
    run(true, files).split("\n").slice(4).join("\n"),
    "\n#\n# Empty\n#\n\n#\n# Full\n#\nCONFIG_A=y\n# end of Full\n",
  );
  assert.match(run(false, files), /# Empty\n#\n# end of Empty\n/);
});
