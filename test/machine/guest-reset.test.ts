/**
 * Issue 9 item 5: with `-no-reboot`, a guest that resets the machine makes
 * QEMU exit 0, as a power-off does. Kiln tells them apart (QEMU traces a
 * power-off as a shutdown request, never a reset) and reports the reset as
 * a failure. Real QEMU (TCG) with the Multiboot stand-in, which resets
 * through the keyboard controller as a crashed kernel's reboot does.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { noQemu } from "../helpers/guests.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { buildMultibootStandin } from "./guests.js";

test("a guest reset is a failure, a power-off is not; ps and inspect say which", {
  skip: noQemu(),
}, async (t) => {
  const dir = scratchDir(t);
  const env = { KILN_HOME: dir };
  const kernel = buildMultibootStandin(dir);
  const reset = await runKiln(["run", "-W", "-n", "rs", kernel, "-a", "reset"], { env });
  assert.equal(reset.code, 1, reset.stderr);
  assert.match(reset.stdout, /KILN-MULTIBOOT-OK/);
  assert.match(
    reset.stderr,
    /kiln: machine rs the guest reset the machine \(a crash or a failed boot, not a power-off\) \(exit 1\)/,
  );
  const off = await runKiln(["run", "-W", "-n", "off", kernel, "-a", "poweroff"], { env });
  assert.equal(off.code, 0, off.stderr);
  const ps = await runKiln(["ps", "-a", "--json"], { env });
  const rows = JSON.parse(ps.stdout) as { name: string; exitCode: number; reason: string }[];
  const by = Object.fromEntries(rows.map((r) => [r.name, [r.exitCode, r.reason]]));
  assert.deepEqual(by, {
    rs: [1, "the guest reset the machine (a crash or a failed boot, not a power-off)"],
    off: [0, "powered off"],
  });
  // A reset while --wait-for waits is a failure too, with the console's last lines.
  const w = await runKiln(["run", "-W", "--rm", kernel, "-a", "reset", "--wait-for", "NEVER"], { env });
  assert.equal(w.code, 1, w.stderr);
  assert.match(w.stderr, /the guest reset the machine .* without its console matching \/NEVER\/m/);
  assert.match(w.stderr, /^ {2}\| cmdline: .* reset --$/m);
});
