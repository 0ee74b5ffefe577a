/**
 * `kiln logs -t` and `kiln logs --since` on a real machine's console (QEMU,
 * TCG): a detached Linux guest prints a line, sleeps 3 s, prints another and
 * powers off. The times are recorded beside the log while the VMM writes it
 * (`console.times`), so they hold after the machine ended: every line has
 * docker's RFC 3339 prefix, the second marker is stamped at least 2 s after
 * the first (the guest slept 3 s between them), `--since` in each of docker's
 * forms keeps the lines from that time on, and the log itself is unchanged.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { busyboxTree, debianKernel, noBusybox, noQemu } from "../helpers/guests.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";

const { kernel, skip: noKernel } = debianKernel();
const skip = noKernel ?? noQemu() ?? noBusybox() ?? false;
const STAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z) (.*)$/s;

test("kiln logs -t and --since: recorded line times on a real machine's console", {
  skip,
  timeout: 300_000,
}, async (t) => {
  const started = Date.now();
  const dir = scratchDir(t, "kiln-logs-t-");
  const initrd = join(dir, "initrd");
  busyboxTree(initrd, "init", [
    "#!/bin/busybox sh",
    "/bin/busybox echo KILN-T-FIRST",
    "/bin/busybox sleep 3",
    "/bin/busybox echo KILN-T-SECOND",
    "/bin/busybox poweroff -f",
  ]);
  const env = { KILN_HOME: join(dir, "home") };
  const run = await runKiln(
    ["run", "-d", "-W", "-n", "stamped", "--network", "none", "-a", "quiet", kernel!, "--initrd", initrd],
    { env },
  );
  assert.equal(run.code, 0, run.stderr);
  try {
    const wait = await runKiln(["wait", "stamped"], { env, timeoutMs: 200_000 });
    assert.equal(wait.code, 0, wait.stderr);
    const plain = await runKiln(["logs", "stamped"], { env });
    const logFile = readFileSync(join(dir, "home/state/machines/stamped/console.log"), "utf8");
    assert.equal(plain.stdout, logFile, "the log is what the guest wrote, without times");

    const stamped = await runKiln(["logs", "-t", "stamped"], { env });
    assert.equal(stamped.code, 0, stamped.stderr);
    const lines = stamped.stdout.replace(/\n$/, "").split("\n");
    assert.equal(lines.length, logFile.replace(/\n$/, "").split("\n").length);
    const parsed = lines.map((l) => {
      const m = STAMP.exec(l);
      assert.ok(m, `no timestamp: ${JSON.stringify(l)}`);
      return { ms: Date.parse(m[1]!), text: m[2]! };
    });
    for (let i = 1; i < parsed.length; i++)
      assert.ok(parsed[i]!.ms >= parsed[i - 1]!.ms, "times never go back");
    const first = parsed.find((p) => p.text.includes("KILN-T-FIRST"));
    const second = parsed.find((p) => p.text.includes("KILN-T-SECOND"));
    assert.ok(first && second, stamped.stdout.slice(-2000));
    assert.ok(second.ms - first.ms >= 2000, `the guest slept 3 s; stamped ${second.ms - first.ms} ms apart`);
    assert.ok(first.ms >= started - 1000 && second.ms <= Date.now() + 1000, "times of this run");

    // --since in docker's forms, at a time between the two markers.
    const between = first.ms + 1000;
    const forms = [new Date(between).toISOString(), String(between / 1000)];
    for (const since of forms) {
      const r = await runKiln(["logs", "--since", since, "stamped"], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /KILN-T-SECOND/, `--since ${since}`);
      assert.doesNotMatch(r.stdout, /KILN-T-FIRST/, `--since ${since}`);
    }
    // Relative to now: the machine has ended, so nothing is newer than 0s, and everything is within 1h30m.
    const none = await runKiln(["logs", "--since", "0s", "stamped"], { env });
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, "");
    const all = await runKiln(["logs", "--since", "1h30m", "-n", "3", "stamped"], { env });
    assert.equal(
      all.stdout,
      logFile.replace(/\n$/, "").split("\n").slice(-3).join("\n") + (logFile.endsWith("\n") ? "\n" : ""),
    );

    const json = await runKiln(["logs", "-t", "--json", "--since", String(between / 1000), "stamped"], {
      env,
    });
    const doc = JSON.parse(json.stdout) as {
      ok: boolean;
      console: string;
      lines: { time: string; text: string }[];
    };
    assert.equal(doc.ok, true);
    assert.ok(doc.lines.some((l) => l.text.includes("KILN-T-SECOND") && STAMP.test(`${l.time} x`)));
    assert.equal(doc.console, doc.lines.map((l) => l.text).join(""));

    const bad = await runKiln(["logs", "--since", "yesterday", "stamped"], { env });
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /^error: --since "yesterday" is not a time$/m);
    assert.match(bad.stderr, /^hint: give a duration back from now \(10m, 1h30m\), Unix seconds/m);
  } finally {
    await runKiln(["rm", "-f", "stamped"], { env });
  }
  t.diagnostic(`took ${Date.now() - started} ms`);
});
