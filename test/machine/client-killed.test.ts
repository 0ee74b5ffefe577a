/**
 * Issue 9 item 12: the supervisor, which outlives Kiln, owns a foreground
 * machine's lifetime when `kiln run` cannot: after `kill -9` of the client
 * the machine is stopped (and `--rm` honoured), and a client that is alive
 * but stuck (SIGSTOP) cannot keep it past `--timeout`. Real QEMU (TCG).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { test } from "node:test";
import { noQemu } from "../helpers/guests.js";
import { KILN_FROM_SOURCE, REPO_ROOT, runKiln, scratchDir } from "../helpers/kiln.js";
import { qemuPidsUnder, waitForLog } from "../helpers/machines.js";
import { buildMultibootStandin } from "./guests.js";

function startKiln(args: string[], home: string): ChildProcess {
  return spawn(KILN_FROM_SOURCE[0]!, [...KILN_FROM_SOURCE.slice(1), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: "1", KILN_HOME: home },
    stdio: ["ignore", "ignore", "ignore"],
  });
}

async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function ps(home: string): Promise<{ name: string; exitCode?: number; reason?: string }[]> {
  const r = await runKiln(["ps", "-a", "--json"], { env: { KILN_HOME: home } });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test("kill -9 of a foreground kiln run stops its machine; --rm removes it", { skip: noQemu() }, async (t) => {
  const home = scratchDir(t);
  const kernel = buildMultibootStandin(home);
  const started = Date.now();
  for (const rm of [true, false]) {
    const name = rm ? "gone-rm" : "gone";
    const kiln = startKiln(
      ["run", "-W", "-n", name, ...(rm ? ["--rm"] : []), "--timeout", "600", kernel, "-a", "hang"],
      home,
    );
    await waitForLog(home, name, /still-waiting/);
    assert.equal(qemuPidsUnder(home).length, 1);
    kiln.kill("SIGKILL");
    await until("QEMU has stopped", () => qemuPidsUnder(home).length === 0, 20_000);
  }
  assert.deepEqual(
    (await ps(home)).map((m) => [m.name, m.exitCode, m.reason]),
    [["gone", 137, "stopped: its kiln run was killed"]],
  );
  t.diagnostic(`took ${Date.now() - started} ms`);
});

test("a stuck client (SIGSTOP) cannot keep its machine past --timeout", { skip: noQemu() }, async (t) => {
  const home = scratchDir(t);
  const kernel = buildMultibootStandin(home);
  const kiln = startKiln(["run", "-W", "-n", "stuck", "--timeout", "2", kernel, "-a", "hang"], home);
  t.after(() => kiln.kill("SIGKILL"));
  await waitForLog(home, "stuck", /still-waiting/);
  kiln.kill("SIGSTOP");
  await until("QEMU has stopped", () => qemuPidsUnder(home).length === 0, 30_000);
  kiln.kill("SIGKILL");
  assert.deepEqual(
    (await ps(home)).map((m) => [m.name, m.exitCode, m.reason]),
    [["stuck", 1, "--timeout reached (stopped by its supervisor)"]],
  );
});

test("a detached machine is not watched; a VMM killed behind Kiln's back is reported so", {
  skip: noQemu(),
}, async (t) => {
  const home = scratchDir(t);
  const env = { KILN_HOME: home };
  const kernel = buildMultibootStandin(home);
  const r = await runKiln(["run", "-W", "-d", "-n", "bg", kernel, "-a", "hang"], { env });
  assert.equal(r.code, 0, r.stderr);
  await waitForLog(home, "bg", /still-waiting/);
  const [pid] = qemuPidsUnder(home);
  assert.ok(pid);
  process.kill(pid, "SIGKILL");
  await until("QEMU is gone", () => qemuPidsUnder(home).length === 0, 10_000);
  await new Promise((res) => setTimeout(res, 300));
  assert.deepEqual(
    (await ps(home)).map((m) => [m.name, m.exitCode, m.reason]),
    [["bg", 137, "QEMU was killed by signal 9"]],
  );
});
