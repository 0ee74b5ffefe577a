/**
 * End-to-end: Debian's stock kernel under QEMU/TCG with a busybox initrd
 * directory that Kiln packs on the fly. Covers foreground runs (exit status,
 * app args, env, --wait-for, --timeout, panic), a guest HTTP server reached
 * through -p, a 9p volume, the ps/logs/stop/rm lifecycle, four machines at
 * once, and `kill -9` of Kiln during a run. One initrd directory is shared by
 * the whole file; each test prints its duration.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { debianKernel, noBusybox, prepareLinuxRootfs } from "../helpers/guests.js";
import { KILN_FROM_SOURCE, REPO_ROOT, runKiln, scratchDir } from "../helpers/kiln.js";
import { qemuPidsUnder, waitForLog } from "../helpers/machines.js";

const { kernel, skip: noKernel } = debianKernel();
const skip = noKernel ?? noBusybox();
let rootfs = "";
let shared = "";

interface Machine {
  name: string;
  state: string;
  exitCode?: number;
  reason?: string;
  pid?: number;
  ports: { hostPort: number }[];
}

async function ps(env: NodeJS.ProcessEnv): Promise<Machine[]> {
  const r = await runKiln(["ps", "-a", "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Machine[];
}

function freePort(): number {
  return 20000 + Math.floor(Math.random() * 20000);
}

describe("kiln run: Debian kernel + busybox initrd", { skip }, () => {
  before(() => {
    shared = mkdtempSync(join(tmpdir(), "kiln-e2e-linux-"));
    rootfs = prepareLinuxRootfs(join(shared, "rootfs"), kernel!);
  });
  after(() => rmSync(shared, { recursive: true, force: true }));

  test("foreground: app args and env reach init, poweroff exits 0, ps -a says why", async (t) => {
    const home = scratchDir(t);
    const started = Date.now();
    const r = await runKiln(
      [
        "run",
        "-W",
        "-n",
        "fg",
        kernel!,
        "--initrd",
        rootfs,
        "-a",
        "quiet",
        "-e",
        "GREETING=hi there",
        "--",
        "sh",
        "-c",
        "echo guest says $GREETING",
      ],
      { env: { KILN_HOME: home } },
    );
    t.diagnostic(`boot to poweroff took ${Date.now() - started} ms`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hello from Linux \S+ in a Kiln microVM/);
    assert.match(r.stdout, /guest says hi there/);
    const [m] = await ps({ KILN_HOME: home });
    assert.deepEqual([m?.name, m?.state, m?.exitCode, m?.reason], ["fg", "exited", 0, "powered off"]);
    const logs = await runKiln(["logs", "fg"], { env: { KILN_HOME: home } });
    assert.match(logs.stdout, /guest says hi there/);
  });

  test("piped stdin reaches the guest's shell, even when written before the guest is ready", async (t) => {
    const home = scratchDir(t);
    const started = Date.now();
    // The whole input is written at once, long before the guest's shell exists.
    const r = await runKiln(
      [
        "run",
        "-W",
        kernel!,
        "--initrd",
        rootfs,
        "-a",
        "quiet",
        "-e",
        "KILN_KEEP_RUNNING=1",
        "--wait-for",
        "PIPED-42",
        "--timeout",
        "120",
      ],
      { env: { KILN_HOME: home }, input: "echo PIPED-$((6*7))\n" },
    );
    t.diagnostic(`piped-input run took ${Date.now() - started} ms`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^PIPED-42\r?$/m);
  });

  test("piped stdin reaches a guest program that reads without printing a prompt", async (t) => {
    const home = scratchDir(t);
    const started = Date.now();
    const r = await runKiln(
      [
        "run",
        "-W",
        "--rm",
        kernel!,
        "--initrd",
        rootfs,
        "-a",
        "quiet",
        "--wait-for",
        "GOT:hello-\\d+",
        "--timeout",
        "120",
        "--",
        "sh",
        "-c",
        "read x; echo GOT:$x-$((6*7))",
      ],
      { env: { KILN_HOME: home }, input: "hello\n", timeoutMs: 180_000 },
    );
    t.diagnostic(`prompt-less read run took ${Date.now() - started} ms`);
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout.slice(-2000)}`);
    assert.match(r.stdout, /^GOT:hello-42\r?$/m);
  });

  test("a kernel panic is a non-zero exit with the panic as reason", async (t) => {
    const home = scratchDir(t);
    const started = Date.now();
    const r = await runKiln(
      ["run", "-W", "-n", "p", kernel!, "--initrd", rootfs, "-a", "quiet", "-a", "rdinit=/does-not-exist"],
      {
        env: { KILN_HOME: home },
      },
    );
    t.diagnostic(`panic run took ${Date.now() - started} ms`);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /Kernel panic - not syncing/);
    assert.match(r.stderr, /kiln: machine p kernel panic: /);
  });

  test("detached web server via -p, 9p volume, port conflict, ps/logs/stop/rm", async (t) => {
    const home = scratchDir(t);
    const env = { KILN_HOME: home };
    const share = join(home, "share");
    mkdirSync(share);
    const port = freePort();
    const started = Date.now();
    const script = [
      "mkdir -p /www /mnt/share",
      "echo hello-over-http > /www/index.html",
      "mount -t 9p -o trans=virtio fs0 /mnt/share && echo written-by-guest > /mnt/share/from-guest.txt",
      "httpd -p 80 -h /www",
      "echo HTTPD-READY",
      "sleep 1000",
    ].join("; ");
    const d = await runKiln(
      [
        "run",
        "-W",
        "-d",
        "-n",
        "web",
        "-p",
        `${port}:80`,
        "-v",
        `${share}:/mnt/share`,
        kernel!,
        "--initrd",
        rootfs,
        "-a",
        "quiet",
        "--",
        "sh",
        "-c",
        script,
      ],
      { env },
    );
    assert.equal(d.code, 0, d.stderr);
    assert.equal(d.stdout, "web\n");
    await waitForLog(home, "web", /HTTPD-READY/);
    t.diagnostic(`detached boot to HTTPD-READY took ${Date.now() - started} ms`);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await res.text(), "hello-over-http\n");
    assert.equal(readFileSync(join(share, "from-guest.txt"), "utf8"), "written-by-guest\n");

    const clash = await runKiln(["run", "-W", "-d", "-p", `${port}:80`, kernel!, "--initrd", rootfs], {
      env,
    });
    assert.equal(clash.code, 1);
    assert.match(
      clash.stderr,
      new RegExp(`error: host port 127\\.0\\.0\\.1:${port}/tcp is held by Kiln machine "web"`),
    );

    const table = await runKiln(["ps"], { env });
    assert.match(
      table.stdout,
      new RegExp(
        `^web\\s+vmlinuz-\\S+\\s+running\\s+\\S+ s\\s+256 MiB\\s+127\\.0\\.0\\.1:${port}->80/tcp\\s+qemu/x86_64`,
        "m",
      ),
    );
    const logs = await runKiln(["logs", "web"], { env });
    assert.match(logs.stdout, /HTTPD-READY/);
    const rmRunning = await runKiln(["rm", "web"], { env });
    assert.equal(rmRunning.code, 1);
    assert.match(rmRunning.stderr, /machine "web" is running/);

    const stop = await runKiln(["stop", "-t", "1", "web"], { env });
    assert.equal(stop.code, 0, stop.stderr);
    assert.deepEqual(qemuPidsUnder(home), []);
    const [m] = await ps(env);
    assert.deepEqual([m?.state, m?.reason], ["exited", "stopped by kiln stop"]);
    assert.equal((await runKiln(["rm", "web"], { env })).code, 0);
    assert.deepEqual(await ps(env), []);
    assert.equal(existsSync(join(home, "state/machines/web")), false);
  });

  test("four machines started and stopped concurrently leave no QEMU and a consistent store", async (t) => {
    const home = scratchDir(t);
    const env = { KILN_HOME: home };
    const names = ["m1", "m2", "m3", "m4"];
    const started = Date.now();
    const runs = await Promise.all(
      names.map((n) =>
        runKiln(
          ["run", "-W", "-d", "-n", n, kernel!, "--initrd", rootfs, "-a", "quiet", "--", "sleep", "1000"],
          { env },
        ),
      ),
    );
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      (await ps(env)).map((m) => m.state),
      ["running", "running", "running", "running"],
    );
    assert.equal(qemuPidsUnder(home).length, 4);
    const stops = await Promise.all(names.map((n) => runKiln(["stop", "-t", "1", n], { env })));
    for (const r of stops) assert.equal(r.code, 0, r.stderr);
    t.diagnostic(`4 machines started and stopped in ${Date.now() - started} ms`);
    assert.deepEqual(qemuPidsUnder(home), []);
    const all = await ps(env);
    assert.deepEqual(
      all.map((m) => [m.name, m.state]).sort(),
      names.map((n) => [n, "exited"]),
    );
    const rm = await runKiln(["rm", ...names], { env });
    assert.equal(rm.code, 0, rm.stderr);
    assert.deepEqual(await ps(env), []);
  });

  test("kill -9 of Kiln during a foreground run: its supervisor stops the VM, and ps says why", async (t) => {
    const home = scratchDir(t);
    const env = { KILN_HOME: home };
    const child: ChildProcess = spawn(
      KILN_FROM_SOURCE[0]!,
      [
        ...KILN_FROM_SOURCE.slice(1),
        "run",
        "-W",
        "-n",
        "orphan",
        kernel!,
        "--initrd",
        rootfs,
        "-a",
        "quiet",
        "--",
        "sh",
        "-c",
        "echo ORPHAN-UP; sleep 1000",
      ],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, KILN_HOME: home, NO_COLOR: "1" },
        stdio: ["pipe", "ignore", "ignore"],
      },
    );
    t.after(() => child.kill("SIGKILL"));
    await waitForLog(home, "orphan", /ORPHAN-UP/);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    // The supervisor that outlives Kiln notices its client is gone and stops the VM (issue 9).
    const end = Date.now() + 30_000;
    while (qemuPidsUnder(home).length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(qemuPidsUnder(home), []);
    const [m] = await ps(env);
    assert.deepEqual([m?.state, m?.exitCode, m?.reason], ["exited", 137, "stopped: its kiln run was killed"]);
    const logs = await runKiln(["logs", "orphan"], { env });
    assert.match(logs.stdout, /ORPHAN-UP/);
    assert.equal((await runKiln(["rm", "orphan"], { env })).code, 0);
  });
});
