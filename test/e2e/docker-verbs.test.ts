/**
 * docker's verbs and kraft's spellings end to end on real QEMU (TCG):
 * ps -q / --filter / --format, kill [-s], wait, start (the console log
 * continues), restart, prune, remove; run --disable-acceleration --as qemu
 * --port; -m checked against the kernel; --symbolic. Debian's kernel with a
 * busybox initrd; one KILN_HOME for the file; each test prints its duration.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { debianKernel, noBusybox, prepareLinuxRootfs } from "../helpers/guests.js";
import { killQemusUsing, runKiln } from "../helpers/kiln.js";
import { consoleLog, qemuPidsUnder, waitForLog } from "../helpers/machines.js";

const { kernel, skip: noKernel } = debianKernel();
const skip = noKernel ?? noBusybox();
let shared = "";
let rootfs = "";
let env: NodeJS.ProcessEnv = {};

const kiln = async (args: string[]) => {
  const r = await runKiln(args, { env, timeoutMs: 180_000 });
  return r;
};

/** How many times `marker` is in machine `name`'s console log. */
const count = (name: string, marker: string) => consoleLog(env.KILN_HOME!, name).split(marker).length - 1;

describe("docker verbs and kraft spellings on real QEMU", { skip }, () => {
  before(() => {
    shared = mkdtempSync(join(tmpdir(), "kiln-e2e-verbs-"));
    rootfs = prepareLinuxRootfs(join(shared, "rootfs"), kernel!);
    env = { KILN_HOME: join(shared, "home") };
  });
  after(() => {
    killQemusUsing(shared);
    rmSync(shared, { recursive: true, force: true });
  });

  test("ps -q/--filter/--format, kill -s, wait, start, restart, prune", async (t) => {
    const started = Date.now();
    // The marker is computed in the guest: the kernel's command line (echoed at boot) does not contain it.
    const long = ["sh", "-c", "echo up-and-$((1+1))-running; sleep 600"];
    // kraft's spellings: --disable-acceleration (= -W), --as (= --vmm), --port (= -p).
    const port = 20000 + Math.floor(Math.random() * 20000);
    const a = await kiln([
      "run",
      "-d",
      "--disable-acceleration",
      "--as",
      "qemu",
      "--port",
      `${port}:80`,
      "-n",
      "verbs-a",
      kernel!,
      "--initrd",
      rootfs,
      "--",
      ...long,
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, "verbs-a\n");
    await waitForLog(env.KILN_HOME!, "verbs-a", /up-and-2-running/);

    assert.equal((await kiln(["ps", "-q"])).stdout, "verbs-a\n");
    const fmt = await kiln(["ps", "--filter", "name=verbs", "--format", "{{.Name}} {{.State}} {{.Ports}}"]);
    assert.equal(fmt.stdout, `verbs-a running 127.0.0.1:${port}->80/tcp\n`, fmt.stderr);
    const table = await kiln(["ps", "--format", "table {{.Name}}\\t{{.State}}"]);
    assert.match(table.stdout, /^NAME {6}STATE\nverbs-a {3}running\n$/);
    assert.equal((await kiln(["ps", "-q", "--filter", "status=exited"])).stdout, "");

    // kill -s TERM: QEMU ends on it; wait prints the status ps records.
    const k = await kiln(["kill", "-s", "TERM", "verbs-a"]);
    assert.equal(k.code, 0, k.stderr);
    const w = await kiln(["wait", "verbs-a"]);
    assert.equal(w.code, 0, w.stderr);
    assert.match(w.stdout, /^\d+\n$/);
    const [rec] = JSON.parse((await kiln(["ps", "-a", "--json"])).stdout) as {
      state: string;
      exitCode: number;
    }[];
    assert.equal(rec?.state, "exited");
    assert.equal(`${rec?.exitCode}\n`, w.stdout);
    assert.equal((await kiln(["ps", "-q", "--filter", "status=exited"])).stdout, "verbs-a\n");
    const again = await kiln(["kill", "verbs-a"]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /machine "verbs-a" is not running \(exited\)/);

    // start: the same machine runs again; its console log is the new boot's.
    const s = await kiln(["start", "verbs-a"]);
    assert.equal(s.code, 0, s.stderr);
    await waitForLog(env.KILN_HOME!, "verbs-a", /up-and-2-running/);
    assert.equal(count("verbs-a", "up-and-2-running"), 1);
    assert.equal((await kiln(["start", "verbs-a"])).code, 1, "starting a running machine is an error");

    const r = await kiln(["restart", "-t", "0", "verbs-a"]);
    assert.equal(r.code, 0, r.stderr);
    await waitForLog(env.KILN_HOME!, "verbs-a", /up-and-2-running/);
    const [m] = JSON.parse((await kiln(["ps", "--json"])).stdout) as { name: string; state: string }[];
    assert.deepEqual([m?.name, m?.state], ["verbs-a", "running"]);

    // A machine that ends by itself: wait prints its status (0: powered off).
    const b = await kiln([
      "run",
      "-d",
      "-W",
      "-n",
      "verbs-b",
      kernel!,
      "--initrd",
      rootfs,
      "--",
      "sh",
      "-c",
      "echo bye",
    ]);
    assert.equal(b.code, 0, b.stderr);
    const wb = await kiln(["wait", "--json", "verbs-b"]);
    assert.deepEqual(JSON.parse(wb.stdout), {
      ok: true,
      machines: [{ name: "verbs-b", exitCode: 0, reason: "powered off" }],
    });

    // prune removes exited machines only; kraft's remove is rm.
    assert.equal((await kiln(["prune"])).stdout, "verbs-b\n");
    assert.equal((await kiln(["ps", "-aq"])).stdout, "verbs-a\n");
    const rm = await kiln(["remove", "-f", "verbs-a"]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal((await kiln(["ps", "-aq"])).stdout, "");
    assert.deepEqual(qemuPidsUnder(env.KILN_HOME!), []);
    t.diagnostic(`docker verbs took ${Date.now() - started} ms`);
  });

  test("-m is checked against a kernel file; --symbolic needs KERNEL.dbg; unknown kraft flags name Kiln's spelling", async () => {
    const arm = await kiln(["run", "-W", "-m", "arm64", kernel!, "--initrd", rootfs]);
    assert.equal(arm.code, 1);
    assert.match(arm.stderr, /-m arm64: \S+ is an x86_64 kernel/);
    const sym = await kiln(["run", "-W", "--symbolic", kernel!, "--initrd", rootfs]);
    assert.equal(sym.code, 1);
    assert.match(sym.stderr, /--symbolic: there is no \S+\.dbg beside/);
    const plat = await kiln(["run", "--platform", "qemu", kernel!]);
    assert.equal(plat.code, 2);
    assert.match(plat.stderr, /^error: unknown option --platform: Kiln's spelling is --plat/);
    // kraft's build -c FILE is supported now: test/unikraft/build-cli.test.ts
    const both = await kiln(["run", "-d", "-i", kernel!]);
    assert.match(both.stderr, /-i keeps the console attached; -d detaches/);
    assert.deepEqual(qemuPidsUnder(env.KILN_HOME!), []);
  });
});
