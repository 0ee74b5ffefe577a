import assert from "node:assert/strict";
import { test } from "node:test";
import { escapeFilter } from "./console.js";

const text = (a: ReturnType<ReturnType<typeof escapeFilter>>) =>
  a.map((x) => ("stop" in x ? "<stop>" : x.send.toString("latin1"))).join("|");

test("plain input passes through; Ctrl-C stops the machine", () => {
  const f = escapeFilter();
  assert.equal(text(f(Buffer.from("ls\r"))), "ls\r");
  assert.equal(text(f(Buffer.from("ab\x03cd"))), "ab|<stop>|cd");
});

test("Ctrl-] c sends Ctrl-C to the guest, also split across reads; Ctrl-] q stops; Ctrl-] Ctrl-] is literal", () => {
  const f = escapeFilter();
  assert.equal(text(f(Buffer.from("x\x1d"))), "x");
  assert.equal(text(f(Buffer.from("cy"))), "\x03|y");
  assert.equal(text(f(Buffer.from("\x1dq"))), "<stop>");
  assert.equal(text(f(Buffer.from("\x1d\x1d"))), "\x1d");
});

test("prompts are recognized at the end of the output only", async () => {
  const { endsWithPrompt } = await import("./console.js");
  assert.equal(endsWithPrompt("boot\n/ # "), true);
  assert.equal(endsWithPrompt("SQLite version 3\nsqlite> "), true);
  assert.equal(endsWithPrompt("Booting from ROM..."), false);
  assert.equal(endsWithPrompt("/ # \n[ 1.0] late kernel line\n"), false);
});

test("a quiet console is ready for input after a guest program's line, not after firmware or the kernel's log", async () => {
  const { looksReadyWhenQuiet } = await import("./console.js");
  assert.equal(looksReadyWhenQuiet(""), false);
  assert.equal(
    looksReadyWhenQuiet(
      "\x1bc\x1b[?7l\x1b[2JSeaBIOS (version 1.16.2)\r\r\nBooting from ROM..\x1bc\x1b[2J\r\n",
    ),
    false,
  );
  assert.equal(looksReadyWhenQuiet("Booting from ROM..\n[    0.000000] Linux version 6.1.0\r\n"), false);
  assert.equal(
    looksReadyWhenQuiet("[    2.1] Run /init as init process\r\nhello from Linux 6.1 in a Kiln microVM\r\n"),
    true,
  );
  assert.equal(looksReadyWhenQuiet("hello\r\n[    3.2] random: crng init done\r\n"), false);
  // As Debian's kernel with `quiet` prints it: no newline between SeaBIOS's last line and init's first.
  assert.equal(
    looksReadyWhenQuiet(
      "Booting from ROM..\x1bc\x1b[?7l\x1b[2Jhello from Linux 6.1.0-56-amd64 in a Kiln microVM\r\n",
    ),
    true,
  );
});
