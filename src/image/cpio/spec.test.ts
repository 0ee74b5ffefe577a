import assert from "node:assert/strict";
import { test } from "node:test";
import { isKilnError } from "../../core/errors.js";
import { parseDeviceSpec } from "./spec.js";

test("device spec lines become entries; comments and blank lines are ignored", () => {
  const entries = parseDeviceSpec(
    "# devices\n/dev/console c 5 1 0600 0 0\n\n/dev//sda b 8 0 660 0 6  # disk\n/run/initctl p - - 0600 0 0\n/home d - - 0755 1000 100\n/bin/su f 0 0 4755 0 0\r\n",
    "spec.txt",
  );
  assert.deepEqual(
    entries.map(({ location, ...e }) => [e, location.line]),
    [
      [
        {
          path: "dev/console",
          type: "char",
          mode: 0o600,
          uid: 0,
          gid: 0,
          mtimeSec: 0,
          rdevMajor: 5,
          rdevMinor: 1,
        },
        2,
      ],
      [
        {
          path: "dev/sda",
          type: "block",
          mode: 0o660,
          uid: 0,
          gid: 6,
          mtimeSec: 0,
          rdevMajor: 8,
          rdevMinor: 0,
        },
        4,
      ],
      [{ path: "run/initctl", type: "fifo", mode: 0o600, uid: 0, gid: 0, mtimeSec: 0 }, 5],
      [{ path: "home", type: "dir", mode: 0o755, uid: 1000, gid: 100, mtimeSec: 0 }, 6],
      [{ path: "bin/su", type: "file", mode: 0o4755, uid: 0, gid: 0, mtimeSec: 0 }, 7],
    ],
  );
});

function errorAt(text: string): { line: number; col: number; message: string } {
  try {
    parseDeviceSpec(text, "devs");
  } catch (e) {
    assert.ok(isKilnError(e, "CPIO_SPEC_INVALID"), String(e));
    assert.equal(e.location?.file, "devs");
    assert.ok(e.hint);
    return { line: e.location!.line, col: e.location!.col, message: e.message };
  }
  assert.fail(`no error for ${JSON.stringify(text)}`);
}

test("bad spec lines are errors at the line and column of the bad field", () => {
  assert.deepEqual(errorAt("/dev/null c 1 3 0666 0 0\n/dev/x q 1 3 0666 0 0"), {
    line: 2,
    col: 8,
    message: 'type must be one of c, b, p, d, f; got "q"',
  });
  assert.deepEqual(errorAt("/dev/console c 5 1 0600 0"), {
    line: 1,
    col: 26,
    message: "expected 7 fields, got 6: GID is missing",
  });
  assert.equal(errorAt("/dev/console c 5 1 0600 0 0 extra").col, 29);
  assert.equal(errorAt("  /dev/tty c 5 one 0600 0 0").col, 16);
  assert.match(errorAt("/dev/tty c 5 1 0999 0 0").message, /MODE must be octal.*"0999"/);
  assert.match(errorAt("/dev/tty c 5 1 0600 root 0").message, /UID must be a decimal number.*"root"/);
  assert.match(errorAt("/run/fifo p 1 2 0600 0 0").message, /MAJOR must be "-" for type p; got "1"/);
  assert.match(
    errorAt("/../etc/passwd f - - 0600 0 0").message,
    /does not name an entry inside the archive root/,
  );
  assert.equal(errorAt("/ d - - 0755 0 0").col, 1);
});
