import assert from "node:assert/strict";
import { test } from "node:test";
import { escapeFilter } from "./console.js";

const text = (a: ReturnType<ReturnType<typeof escapeFilter>>) =>
  a.map((x) => ("stop" in x ? "<stop>" : "detach" in x ? "<detach>" : x.send.toString("latin1"))).join("|");

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

test("a read that stops inside an escape sequence is neither a prompt nor a quiet guest line", async () => {
  // CI saw this: the console log read ended at "ESC [?" (half of SeaBIOS's "ESC [?7l"), the
  // trailing "?" passed for a prompt, and the input typed early went to a guest still booting,
  // whose 8250 driver then dropped part of it.
  const { endsWithPrompt, endsMidEscape, looksReadyWhenQuiet } = await import("./console.js");
  for (const cut of ["\x1b", "\x1b[", "\x1b[?", "\x1b[?7", "\x1bc\x1b[?"]) {
    const out = `Booting from ROM..${cut}`;
    assert.equal(endsMidEscape(out), true, JSON.stringify(out));
    assert.equal(endsWithPrompt(out), false, JSON.stringify(out));
    assert.equal(looksReadyWhenQuiet(`hello from init\r\n${cut}`), false, JSON.stringify(cut));
  }
  assert.equal(endsMidEscape("Booting from ROM..\x1bc\x1b[?7l"), false);
  assert.equal(endsWithPrompt("/ # \x1b[6n"), true);
});

test("a line still being written is not a guest program's line while it may become firmware's or the kernel's", async () => {
  const { looksReadyWhenQuiet } = await import("./console.js");
  for (const partial of ["SeaB", "Booting fr", "[    1.23", "["])
    assert.equal(looksReadyWhenQuiet(`\x1bc\x1b[?7l\x1b[2J${partial}`), false, partial);
  // Complete lines, and partial lines that cannot become those, are a program's.
  assert.equal(looksReadyWhenQuiet("Booting from ROM..\x1bc\x1b[2JSeaBIOS is not a program\r\n"), false);
  assert.equal(looksReadyWhenQuiet("Booting from ROM..\x1bc\x1b[2JEnter a value "), true);
  assert.equal(looksReadyWhenQuiet("Booting from ROM..\x1bc\x1b[2JSeaside\r\n"), true);
});

test("printedOnlyFirmware: the console of a KVM guest stuck after its firmware (issue 8), and ones that are not", async () => {
  const { printedOnlyFirmware } = await import("./console.js");
  // What the PVM host showed for the README's main job before the probe ran guest code.
  const stuck =
    "\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS (version 1.16.2-debian-1.16.2-1)\r\n\r\n\r\niPXE (https://ipxe.org) 00:02.0 CA00 PCI2.10 PnP PMM+06FCF290+06F0F290 CA00\r\n\r\n\r\n\r\nBooting from ROM..\x1bc\x1b[?7l\x1b[2JProbing EDD (edd=off to disable)... ok\r\n";
  assert.equal(printedOnlyFirmware(stuck), true);
  assert.equal(printedOnlyFirmware(""), true);
  assert.equal(printedOnlyFirmware(`${stuck}[    0.000000] Linux version 6.1.0\r\n`), false);
  assert.equal(printedOnlyFirmware(`${stuck}hello from Linux\r\n`), false);
  assert.equal(printedOnlyFirmware("Powered by Unikraft Kiviuq (0.17.0~5d38d108)\n"), false);
});

test("Ctrl-] d detaches only where detaching is allowed (kiln attach)", () => {
  assert.equal(text(escapeFilter({ detach: true })(Buffer.from("ls\x1dd"))), "ls|<detach>");
  assert.equal(text(escapeFilter({ detach: true })(Buffer.from("\x1dq"))), "<stop>");
  // In a foreground run, Ctrl-] d means nothing: neither sent nor acted on.
  assert.equal(text(escapeFilter()(Buffer.from("ls\x1dd"))), "ls");
});
