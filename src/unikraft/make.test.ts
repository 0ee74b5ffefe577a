import assert from "node:assert/strict";
import { test } from "node:test";
import { countSteps, crossToolchainFor, firstErrors, parseMakeLine, planMake } from "./make.js";

test("plans Unikraft's make interface", () => {
  assert.deepEqual(
    planMake({
      coreDir: "/u",
      appDir: "/app",
      libDirs: ["/l/musl", "/l/lwip"],
      buildDir: "/app/.unikraft/build",
      name: "hello",
      configFile: "/app/.config.hello_qemu-arm64",
      crossCompile: "aarch64-linux-gnu-",
      jobs: 4,
    }),
    [
      "make",
      "-C",
      "/u",
      "O=/app/.unikraft/build",
      "A=/app",
      "L=/l/musl:/l/lwip",
      "N=hello",
      "C=/app/.config.hello_qemu-arm64",
      "CROSS_COMPILE=aarch64-linux-gnu-",
      "-j4",
    ],
  );
  const cfg = planMake({
    coreDir: "/u",
    appDir: "/a",
    libDirs: [],
    buildDir: "/b",
    name: "n",
    configFile: "/c",
    goal: "defconfig",
    vars: { UK_DEFCONFIG: "/d" },
  });
  assert.deepEqual(cfg, ["make", "-C", "/u", "O=/b", "A=/a", "N=n", "C=/c", "UK_DEFCONFIG=/d", "defconfig"]);
});

test("picks a cross toolchain only when the target architecture differs from the host", () => {
  assert.equal(crossToolchainFor("x86_64", "x86_64"), undefined);
  assert.deepEqual(crossToolchainFor("arm64", "x86_64"), {
    prefix: "aarch64-linux-gnu-",
    debianPackage: "gcc-aarch64-linux-gnu",
  });
  assert.equal(crossToolchainFor("x86_64", "arm64")?.prefix, "x86_64-linux-gnu-");
});

test("parses Unikraft's quiet build lines and compiler errors", () => {
  assert.deepEqual(parseMakeLine("  CC      libkvmplat: setup.o"), {
    kind: "step",
    verb: "CC",
    object: "libkvmplat: setup.o",
  });
  assert.deepEqual(parseMakeLine("  LD      helloworld_qemu-x86_64.dbg"), {
    kind: "step",
    verb: "LD",
    object: "helloworld_qemu-x86_64.dbg",
  });
  assert.deepEqual(parseMakeLine("/app/main.c:3:9: error: 'x' undeclared"), {
    kind: "error",
    text: "/app/main.c:3:9: error: 'x' undeclared",
    file: "/app/main.c",
    line: 3,
    col: 9,
  });
  assert.equal(parseMakeLine("/usr/bin/ld: warning: x.o: requires executable stack"), undefined);
  assert.equal(parseMakeLine("make: Entering directory '/u'"), undefined);
  const log = [
    "  CC      a: x.o",
    "  AS      a: y.o",
    "  OBJCOPY a.o",
    "/app/main.c:3:9: error: 'x' undeclared",
    "/app/main.c:3:9: error: 'x' undeclared",
    "x.c:(.text+0x1): undefined reference to `getrandom'",
    "make[2]: *** [Makefile:1: x.o] Error 1",
  ].join("\n");
  assert.equal(countSteps(log), 2);
  assert.deepEqual(firstErrors(log), [
    "/app/main.c:3:9: error: 'x' undeclared",
    "x.c:(.text+0x1): undefined reference to `getrandom'",
  ]);
  assert.deepEqual(firstErrors("make: *** [all] Error 2\n"), ["make: *** [all] Error 2"]);
});
