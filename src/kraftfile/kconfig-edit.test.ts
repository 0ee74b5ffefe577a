import assert from "node:assert/strict";
import { test } from "node:test";
import { locateKconfigEntries, saveKconfigEntries } from "./kconfig-edit.js";

const KRAFTFILE = `spec: v0.6
name: app   # the name
unikraft:
  version: stable
  kconfig:
    # memory
    CONFIG_STACK: 5
libraries:
  musl:
    version: stable
    kconfig:
      - CONFIG_LIBMUSL=y   # libc
  lwip: stable
targets:
  - qemu/x86_64   # the one we run
  - platform: fc
    architecture: x86_64
    kconfig:
      CONFIG_X: "a b"
`;

test("kconfig entries are located with their scope and line", () => {
  assert.deepEqual(locateKconfigEntries(KRAFTFILE), [
    { scope: { kind: "core" }, symbol: "CONFIG_STACK", value: "5", line: 7 },
    { scope: { kind: "library", name: "musl" }, symbol: "CONFIG_LIBMUSL", value: "y", line: 12 },
    { scope: { kind: "target", index: 1 }, symbol: "CONFIG_X", value: "a b", line: 19 },
  ]);
});

test("saving changes entries in place, appends new ones in the block's style, keeps comments", () => {
  let t = saveKconfigEntries(KRAFTFILE, { kind: "core" }, { CONFIG_STACK: "6", CONFIG_NAME: '"hi there"' });
  t = saveKconfigEntries(t, { kind: "library", name: "musl" }, { CONFIG_LIBMUSL: undefined, CONFIG_M: "y" });
  t = saveKconfigEntries(t, { kind: "target", index: 0 }, { CONFIG_Q: "0x10" });
  t = saveKconfigEntries(t, { kind: "library", name: "lwip" }, { CONFIG_LWIP: "y" });
  assert.equal(
    t,
    `spec: v0.6
name: app # the name
unikraft:
  version: stable
  kconfig:
    # memory
    CONFIG_STACK: 6
    CONFIG_NAME: hi there
libraries:
  musl:
    version: stable
    kconfig:
      - CONFIG_M=y
  lwip:
    version: stable
    kconfig:
      CONFIG_LWIP: y
targets:
  # the one we run
  - platform: qemu
    architecture: x86_64
    kconfig:
      CONFIG_Q: "0x10"
  - platform: fc
    architecture: x86_64
    kconfig:
      CONFIG_X: "a b"
`,
  );
  assert.deepEqual(
    locateKconfigEntries(t).map((e) => `${e.symbol}=${e.value}`),
    [
      "CONFIG_STACK=6",
      "CONFIG_NAME=hi there",
      "CONFIG_M=y",
      "CONFIG_LWIP=y",
      "CONFIG_Q=0x10",
      "CONFIG_X=a b",
    ],
  );
});

test("removing an entry nobody wrote changes nothing", () => {
  assert.equal(
    saveKconfigEntries(KRAFTFILE, { kind: "target", index: 0 }, { CONFIG_NOPE: undefined }),
    KRAFTFILE,
  );
});
