/**
 * The guest console from the host side. Output is read by following
 * `console.log`, which QEMU writes itself (so nothing printed before Kiln
 * attaches is lost, and a detached machine's log is complete); input goes to
 * the console's input FIFO, which QEMU reads only when the guest's UART can
 * take bytes, so keystrokes typed before the guest is ready wait in the FIFO
 * instead of being dropped.
 *
 * Escape sequence in an interactive terminal (as ssh's `~.` / telnet's `^]`):
 * Ctrl-] then `c` sends Ctrl-C to the guest, Ctrl-] then `q` stops the
 * machine, Ctrl-] twice sends a literal Ctrl-]; plain Ctrl-C stops the machine
 * cleanly.
 */

import { constants, openSync } from "node:fs";
import { open } from "node:fs/promises";
import { Socket } from "node:net";

/** Follow a growing file from `fromOffset`, calling `onChunk` with new bytes. */
export function followFile(
  path: string,
  onChunk: (chunk: Buffer) => void,
  opts: { fromOffset?: number; pollMs?: number } = {},
): { stop(): Promise<void> } {
  let offset = opts.fromOffset ?? 0;
  let stopped = false;
  let reading: Promise<void> = Promise.resolve();
  const buf = Buffer.alloc(64 * 1024);
  const readMore = async () => {
    let fh: Awaited<ReturnType<typeof open>> | undefined;
    try {
      fh = await open(path, "r");
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        onChunk(Buffer.from(buf.subarray(0, bytesRead)));
      }
    } catch {
      // not there yet
    } finally {
      await fh?.close();
    }
  };
  const tick = () => {
    if (stopped) return;
    reading = reading.then(readMore).then(() => {
      if (!stopped) timer = setTimeout(tick, opts.pollMs ?? 15);
    });
  };
  let timer: NodeJS.Timeout = setTimeout(tick, 0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await reading;
      await readMore();
    },
  };
}

/**
 * Open a console's input FIFO for writing, retrying while nothing reads it yet
 * (`ENXIO`: QEMU has not opened it) or it does not exist yet. Writes go through
 * a stream, so a full FIFO (input the guest has not taken) waits instead of
 * failing or blocking the event loop.
 */
export async function connectConsole(path: string, timeoutMs = 10_000): Promise<Socket> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      // O_NONBLOCK: the open returns at once (ENXIO without a reader) instead of waiting.
      const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
      const s = new Socket({ fd, readable: false, writable: true });
      s.on("error", () => {});
      return s;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== "ENXIO" && code !== "ENOENT") || Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** What a keystroke sequence from the terminal means (see the module comment). */
export type ConsoleAction = { send: Buffer } | { stop: true } | { detach: true };

/**
 * A stateful filter for terminal input implementing the escape sequence.
 * With `detach` (kiln attach), Ctrl-] then `d` leaves the machine running
 * and ends the session, as docker's detach keys do.
 */
export function escapeFilter(opts: { detach?: boolean } = {}): (chunk: Buffer) => ConsoleAction[] {
  let pendingEscape = false;
  return (chunk) => {
    const actions: ConsoleAction[] = [];
    let start = 0;
    const flush = (end: number) => {
      if (end > start) actions.push({ send: chunk.subarray(start, end) });
    };
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (pendingEscape) {
        pendingEscape = false;
        start = i + 1;
        if (b === 0x63 || b === 0x43) actions.push({ send: Buffer.from([0x03]) });
        else if (b === 0x71 || b === 0x51 || b === 0x2e) actions.push({ stop: true });
        else if (b === 0x1d) actions.push({ send: Buffer.from([0x1d]) });
        else if (opts.detach && (b === 0x64 || b === 0x44)) actions.push({ detach: true });
        continue;
      }
      if (b === 0x1d || b === 0x03) {
        flush(i);
        start = i + 1;
        if (b === 0x1d) pendingEscape = true;
        else actions.push({ stop: true });
      }
    }
    flush(chunk.length);
    return actions;
  };
}

/**
 * Whether console output ends in an input prompt: a last line with no newline
 * after it that ends in `#`, `$`, `>`, `%`, `:` or `?` (and optional spaces),
 * like `/ # ` or `sqlite> `. Input typed before the guest is ready is held
 * until then: bytes given to the UART earlier are dropped when the guest's
 * serial driver resets the FIFO (seen with Linux's 8250 driver), and a guest
 * reading its console prints a prompt first.
 */
export function endsWithPrompt(output: string): boolean {
  if (endsMidEscape(output)) return false;
  const last = output.slice(output.lastIndexOf("\n") + 1).replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, "");
  return /[#$>%:?] *$/.test(last);
}

/**
 * Whether output stops inside a terminal escape sequence (`ESC`, `ESC [`,
 * `ESC [ ? 7`…). The console log is read in whatever pieces QEMU has written,
 * one UART byte at a time, so a read can end there: `Booting from ROM..ESC c
 * ESC [?` is no `?` prompt, only half of SeaBIOS's `ESC [?7l`.
 */
export function endsMidEscape(output: string): boolean {
  return /\x1b(\[[0-9;?]*)?$/.test(output);
}

/** How long the console must stay quiet after a prompt before input is released (see {@link endsWithPrompt}). */
export const PROMPT_SETTLE_MS = 100;

/** How long the console must stay quiet before {@link looksReadyWhenQuiet} is asked. */
export const CONSOLE_QUIET_MS = 500;

// Lines printed before any guest program runs: firmware (SeaBIOS, iPXE, EDK2)
// and the x86 boot stub (arch/x86/boot/compressed/misc.c), and kernel log lines
// (printk with CONFIG_PRINTK_TIME, as Debian's, Firecracker's and Unikraft's
// kernels print them: `[    1.234567] …`).
const BEFORE_PROGRAMS_WORDS = [
  "SeaBIOS",
  "Booting from",
  "iPXE",
  "Machine UEFI",
  "BdsDxe",
  "Press ESC",
  "early console",
  "Decompressing Linux",
  "Parsing ELF",
  "Booting the kernel",
  "Performing relocations",
  "Probing EDD",
];
const PRINTK_LINE = /^\s*\[\s*\d+\.\d+\]/;
// A line still being written (the log is read as the UART emits it, byte by byte under TCG)
// that may yet become one of the above: `SeaB`, `[    1.23`.
const PRINTK_START = /^\s*\[[\s\d.]*$/;

function beforePrograms(line: string, complete: boolean): boolean {
  if (BEFORE_PROGRAMS_WORDS.some((w) => line.startsWith(w)) || PRINTK_LINE.test(line)) return true;
  return !complete && (BEFORE_PROGRAMS_WORDS.some((w) => w.startsWith(line)) || PRINTK_START.test(line));
}

/**
 * Whether a guest whose console has gone quiet is ready for input although it
 * printed no prompt (a program doing `read` without one): its last line is
 * output of a guest program — not firmware, not the kernel's boot log. By then
 * the guest's console is open, so input is kept by its tty layer rather than
 * dropped with the UART's FIFO.
 */
export function looksReadyWhenQuiet(output: string): boolean {
  if (endsMidEscape(output)) return false;
  const lines = output
    // ESC c (a terminal reset, as SeaBIOS and the kernel's console print them) starts afresh:
    // "Booting from ROM..\x1bc…hello" is two lines.
    .replace(/\x1bc/g, "\n")
    .replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, "")
    .split(/\r?\n|\r/);
  const complete = lines.at(-1)?.trim() === "";
  const last = lines.filter((l) => l.trim() !== "").at(-1);
  return last !== undefined && !beforePrograms(last, complete);
}

/**
 * Whether a console shows nothing beyond firmware and the kernel's boot stub
 * (SeaBIOS, iPXE, `Probing EDD`, `Decompressing Linux`…): no kernel log line,
 * no program output. A KVM guest still there after {@link FIRMWARE_ONLY_NOTICE_MS}
 * is what a host whose KVM cannot run it looks like (issue 8).
 */
export function printedOnlyFirmware(output: string): boolean {
  const lines = output
    .replace(/\x1bc/g, "\n")
    .replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, "")
    .split(/\r?\n|\r/)
    .map((l) => l.trim())
    .filter((l) => l !== "");
  return lines.every((l) => BEFORE_PROGRAMS_WORDS.some((w) => l.startsWith(w)));
}

/**
 * How long a KVM guest may print nothing beyond its firmware before Kiln says
 * so. Measured: Debian's kernel with `quiet` reaches its init in about 1-2 s
 * under KVM and about 6 s under TCG on 2 cores; a Unikraft image prints within
 * 0.1 s. A guest silent after its firmware for 10 s under KVM is stuck.
 */
export const FIRMWARE_ONLY_NOTICE_MS = 10_000;
