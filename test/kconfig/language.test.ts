/**
 * The Kconfig language on in-memory trees. The expected `.config` texts were
 * produced by Linux 6.1's scripts/kconfig/conf from the same files (with the
 * glob `source` spelled out, which 6.1's conf lacks), so they pin conf's
 * behaviour: macro language, menus and `# end of`, comments, `if`, hidden
 * menus, ranges, choices with defaults, optional choices, select of a symbol
 * whose dependencies are unmet (with conf's warning), imply, `m` under MODULES.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { allconfig, Config, olddefconfig, parseKconfig, why } from "../../src/kconfig/index.js";
import { memoryHost } from "./fixtures.js";

const KCONFIG = `mainmenu "Fixture $(VERSION) Configuration"

cc := $(shell,echo gcc-12)
greet = hello-$(1)-$(2)
flags := a
flags += b

config MODULES
	bool "Enable loadable module support"
	modules

config CC_NAME
	string
	default "$(cc)"

config GREETING
	string "greeting"
	default "$(greet,x,y) $(flags) \\"q\\""

menu "Drivers"

config NET
	bool "Networking"
	default y

config NET_DRV
	tristate "A network driver"
	depends on NET
	default m

config NET_FAST
	bool "Fast path"
	depends on NET_DRV
	select CRC

config CRC
	tristate
	depends on !NET

comment "Only with networking"
	depends on NET

if NET
config NET_BUFS
	int "Buffers"
	range 4 64
	default 100

config NET_BASE
	hex "Base"
	default 0x1000
	range 0x1000 0x2000
endif

menu "Hidden menu"
	visible if n

config IN_HIDDEN
	bool "in a hidden menu"
	default y
endmenu

endmenu

choice
	prompt "Scheduler"
	default SCHED_B

config SCHED_A
	bool "A"

config SCHED_B
	bool "B"

config SCHED_B_TUNE
	bool "tune B"
	depends on SCHED_B

endchoice

choice
	prompt "Optional choice"
	optional

config OPT_X
	bool "X"
endchoice

config IMPLIED
	tristate "implied"
	depends on NET

config IMPLIER
	bool "implier"
	default y
	imply IMPLIED

config CMP
	def_bool y if NET_BUFS > 10 && GREETING != "x"

source "sub/*.kc"
osource "missing/Kconfig"
`;

const FILES = {
  Kconfig: KCONFIG,
  "sub/a.kc": 'config SUB_A\n\tbool "sub a"\n\tdefault NET\n',
  "sub/b.kc": 'config SUB_B\n\tbool "sub b $(filename):$(lineno)"\n',
};

const HEAD = "#\n# Automatically generated file; DO NOT EDIT.\n# Fixture 1.0 Configuration\n#\n";

const ALLDEF = `${HEAD}# CONFIG_MODULES is not set
CONFIG_CC_NAME="gcc-12"
CONFIG_GREETING="hello-x-y a b \\"q\\""

#
# Drivers
#
CONFIG_NET=y
CONFIG_NET_DRV=y
# CONFIG_NET_FAST is not set

#
# Only with networking
#
CONFIG_NET_BUFS=64
CONFIG_NET_BASE=0x1000
CONFIG_IN_HIDDEN=y
# end of Drivers

# CONFIG_SCHED_A is not set
CONFIG_SCHED_B=y
# CONFIG_SCHED_B_TUNE is not set
CONFIG_IMPLIED=y
CONFIG_IMPLIER=y
CONFIG_CMP=y
CONFIG_SUB_A=y
# CONFIG_SUB_B is not set
`;

const INPUT =
  'CONFIG_MODULES=y\nCONFIG_NET_FAST=y\nCONFIG_NET_BUFS=3\nCONFIG_SCHED_A=y\nCONFIG_GREETING="hi \\"there\\""\n# CONFIG_IMPLIER is not set\n';

const OLDDEF = `${HEAD}CONFIG_MODULES=y
CONFIG_CC_NAME="gcc-12"
CONFIG_GREETING="hi \\"there\\""

#
# Drivers
#
CONFIG_NET=y
CONFIG_NET_DRV=m
CONFIG_NET_FAST=y
CONFIG_CRC=m

#
# Only with networking
#
CONFIG_NET_BUFS=64
CONFIG_NET_BASE=0x1000
CONFIG_IN_HIDDEN=y
# end of Drivers

CONFIG_SCHED_A=y
# CONFIG_SCHED_B is not set
# CONFIG_IMPLIED is not set
# CONFIG_IMPLIER is not set
CONFIG_SUB_A=y
# CONFIG_SUB_B is not set
`;

const SAVED = `CONFIG_MODULES=y
CONFIG_GREETING="hi \\"there\\""
CONFIG_NET_FAST=y
CONFIG_NET_BUFS=64
CONFIG_SCHED_A=y
# CONFIG_IMPLIER is not set
`;

function parse() {
  const host = memoryHost(FILES, { VERSION: "1.0" }, { "echo gcc-12": "gcc-12\n" });
  return { host, tree: parseKconfig("Kconfig", host) };
}

test("alldefconfig: macros, menus, comments, if, hidden menus, ranges, choices, imply, globbed source", () => {
  const { host, tree } = parse();
  assert.equal(allconfig(tree, "default").dotconfig(), ALLDEF);
  assert.deepEqual(host.shellCalls, ["echo gcc-12"]);
  assert.deepEqual(tree.env, { VERSION: "1.0" });
  assert.deepEqual(tree.files, ["Kconfig", "sub/a.kc", "sub/b.kc"]);
  const subB = tree.syms.get("SUB_B")?.nodes[0]?.prompt?.text;
  assert.equal(subB, "sub b sub/b.kc:2");
});

test("olddefconfig: user values, out-of-range int reset to the range, m under MODULES, select with unmet dependencies", () => {
  const { tree } = parse();
  const c = olddefconfig(tree, INPUT);
  assert.equal(c.dotconfig(), OLDDEF);
  const unmet = c.unmet.get("CRC");
  assert.equal(
    unmet?.text,
    "\nWARNING: unmet direct dependencies detected for CRC\n  Depends on [n]: !NET [=y]\n  Selected by [m]:\n  - NET_FAST [=y] && NET_DRV [=m]\n",
  );
  const written = c.dotconfig();
  assert.equal(new Config(tree).load(written).savedefconfig(), SAVED);
});

test("allyesconfig and allmodconfig differ only where tristates can be m", () => {
  const { tree } = parse();
  const yes = allconfig(tree, "yes").dotconfig();
  const mod = allconfig(tree, "mod").dotconfig();
  assert.match(yes, /^CONFIG_NET_DRV=y$/m);
  assert.match(mod, /^CONFIG_NET_DRV=m$/m);
  assert.match(mod, /^CONFIG_IMPLIED=m$/m);
  assert.equal(yes.replace(/=m$/gm, "=y"), mod.replace(/=m$/gm, "=y"));
});

test("why: dependency terms, the blocking term, selectors, the default that applied", () => {
  const { tree } = parse();
  const c = olddefconfig(tree, INPUT);
  const f = why(c, "CONFIG_CRC");
  assert.equal(f.value, "m");
  assert.deepEqual(f.definitions, [{ file: "Kconfig", line: 36, prompt: undefined, menuPath: ["Drivers"] }]);
  assert.equal(f.dependsOn?.expr, "!NET");
  assert.deepEqual(f.dependsOn?.blocking, ["!NET is n"]);
  assert.deepEqual(
    f.selectedBy.map((s) => [s.symbol, s.value, s.condition.expr, s.active]),
    [["NET_FAST", "y", "NET_DRV", true]],
  );
  const b = why(c, "NET_BUFS");
  assert.deepEqual(b.range, { min: "4", max: "64" });
  assert.equal(b.userValue, undefined, "3 was out of range, so conf dropped the user value");
  const s = why(c, "SCHED_B_TUNE");
  assert.equal(s.choice, undefined, "a symbol depending on a choice value is not a value of the choice");
  assert.deepEqual(s.toEnable, ["SCHED_B is n"]);
});
