/**
 * A foreground run piped into a reader that stops early (`kiln run --rm … |
 * head -2`): Kiln stops the machine, honours --rm and exits 141 (128 +
 * SIGPIPE) quietly, as `yes | head` does — no EPIPE stack trace, no QEMU and
 * no record left. Real QEMU under TCG with Debian's kernel and a busybox
 * initrd whose guest prints a line a second forever.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { debianKernel, noBusybox, prepareLinuxRootfs } from "../helpers/guests.js";
import { KILN_FROM_SOURCE, REPO_ROOT, runKiln, scratchDir } from "../helpers/kiln.js";
import { qemuPidsUnder } from "../helpers/machines.js";

const { kernel, skip: noKernel } = debianKernel();
const skip = noKernel ?? noBusybox();

/** `'a' 'b'` for a shell command line. */
function shellWords(argv: readonly string[]): string {
  return argv.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
}

test("kiln run --rm … | head -2: exit 141, no stack trace, no QEMU, no record", {
  skip,
  timeout: 300_000,
}, async (t) => {
  const dir = scratchDir(t);
  const home = join(dir, "home");
  const rootfs = prepareLinuxRootfs(join(dir, "rootfs"), kernel!);
  const kiln = [
    ...KILN_FROM_SOURCE,
    "run",
    "-W",
    "--rm",
    "-n",
    "piped",
    kernel!,
    "--initrd",
    rootfs,
    "--",
    "sh",
    "-c",
    "i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done",
  ];
  const started = Date.now();
  // PIPESTATUS[0] is Kiln's status; its stderr goes to a file so the test sees what it printed.
  const r = spawnSync(
    "bash",
    ["-c", `${shellWords(kiln)} 2>"$ERR" | head -2; echo "status=\${PIPESTATUS[0]}"; cat "$ERR" >&2`],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: "1", KILN_HOME: home, ERR: join(dir, "stderr.txt") },
      encoding: "utf8",
      timeout: 240_000,
    },
  );
  t.diagnostic(`boot to closed pipe took ${Date.now() - started} ms`);
  const lines = r.stdout.split("\n");
  assert.equal(lines.length, 4, r.stdout); // two console lines, the status, the final newline
  assert.equal(lines[2], "status=141", `${r.stdout}\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /EPIPE|internal error|at .*\.js:\d+/, r.stderr);
  assert.deepEqual(qemuPidsUnder(home), [], "no QEMU left running");
  const ps = await runKiln(["ps", "-a", "--json"], { env: { KILN_HOME: home } });
  assert.equal(ps.code, 0, ps.stderr);
  assert.deepEqual(JSON.parse(ps.stdout), [], "--rm removed the record");
});

test("kiln run … | head -2 without --rm: ps records why the machine stopped", {
  skip,
  timeout: 300_000,
}, async (t) => {
  const dir = scratchDir(t);
  const home = join(dir, "home");
  const rootfs = prepareLinuxRootfs(join(dir, "rootfs"), kernel!);
  const kiln = [...KILN_FROM_SOURCE, "run", "-W", "-n", "kept", kernel!, "--initrd", rootfs];
  const r = spawnSync("bash", ["-c", `${shellWords(kiln)} | head -1 >/dev/null; echo "\${PIPESTATUS[0]}"`], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: "1", KILN_HOME: home },
    encoding: "utf8",
    timeout: 240_000,
  });
  assert.equal(r.stdout.trim(), "141", r.stderr);
  assert.deepEqual(qemuPidsUnder(home), []);
  const ps = await runKiln(["ps", "-a", "--json"], { env: { KILN_HOME: home } });
  const [m] = JSON.parse(ps.stdout) as { name: string; state: string; exitCode: number; reason: string }[];
  assert.deepEqual(
    [m?.name, m?.state, m?.exitCode, m?.reason],
    ["kept", "exited", 141, "stopped: its output was closed"],
  );
});
