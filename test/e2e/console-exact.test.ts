/**
 * End-to-end: the console is exact. A Linux guest (Debian's stock kernel,
 * busybox initrd) prints 300 numbered lines of a fixed text while a
 * CPU-burning loop runs beside Kiln; `kiln run`'s output and `kiln logs` must
 * hold every line byte for byte. With QEMU's socket chardev and `logfile=`, a
 * socket write QEMU had to retry (its reader briefly behind under load) was
 * logged twice, and about 1 line in 15 came out damaged (`01234567899`).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { debianKernel, noBusybox, noQemu, prepareLinuxRootfs } from "../helpers/guests.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";

const { kernel, skip: noKernel } = debianKernel();
const skip = noQemu() ?? noKernel ?? noBusybox();

const LINES = 300;
const TEXT = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** What the guest prints between its markers, as the console carries it (the tty's ONLCR: CR LF). */
function expectedText(): string {
  let out = "KILN-BEGIN\r\n";
  for (let i = 0; i < LINES; i++) out += `line ${String(i).padStart(3, "0")} ${TEXT}\r\n`;
  return `${out}KILN-END\r\n`;
}

/** The console text from the begin marker through the end marker's line, or why it is missing. */
function between(console: string): string {
  const start = console.indexOf("KILN-BEGIN");
  const end = console.indexOf("KILN-END", start);
  if (start < 0 || end < 0) return `(markers missing in ${JSON.stringify(console.slice(-400))})`;
  return console.slice(start, console.indexOf("\n", end) + 1);
}

/** The lines of `got` that differ from `want`'s, for a readable failure. */
function damaged(got: string, want: string): string[] {
  const w = want.split("\n");
  return got
    .split("\n")
    .map((l, i) => (l === w[i] ? undefined : `${i}: ${JSON.stringify(l)}`))
    .filter((l): l is string => l !== undefined)
    .slice(0, 10);
}

test("console: 300 known lines come out byte for byte under CPU load, in kiln run and kiln logs", {
  skip,
}, async (t) => {
  const home = scratchDir(t);
  const rootfs = prepareLinuxRootfs(join(home, "rootfs"), kernel!);
  const script = join(rootfs, "spew");
  writeFileSync(
    script,
    [
      "#!/bin/busybox sh",
      "echo KILN-BEGIN",
      "i=0",
      `while [ $i -lt ${LINES} ]; do printf 'line %03d ${TEXT}\\n' $i; i=$((i+1)); done`,
      "echo KILN-END",
      "",
    ].join("\n"),
  );
  chmodSync(script, 0o755);
  // The load: one busy loop per run, started and stopped here.
  let burner: ChildProcess | undefined = spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
  t.after(() => burner?.kill("SIGKILL"));
  const want = expectedText();
  const started = Date.now();
  try {
    for (const name of ["exact1", "exact2"]) {
      const r = await runKiln(
        ["run", "-W", "-n", name, kernel!, "--initrd", rootfs, "-a", "quiet", "--", "/spew"],
        {
          env: { KILN_HOME: home },
          timeoutMs: 180_000,
        },
      );
      assert.equal(r.code, 0, r.stderr);
      const shown = between(r.stdout);
      assert.equal(shown, want, `kiln run ${name}: damaged lines:\n${damaged(shown, want).join("\n")}`);
      const logs = await runKiln(["logs", name], { env: { KILN_HOME: home } });
      assert.equal(logs.code, 0, logs.stderr);
      const logged = between(logs.stdout);
      assert.equal(logged, want, `kiln logs ${name}: damaged lines:\n${damaged(logged, want).join("\n")}`);
    }
  } finally {
    burner.kill("SIGKILL");
    burner = undefined;
  }
  t.diagnostic(`two runs under load took ${Date.now() - started} ms`);
});
