/**
 * Issue 9 items 15 and 16, on Debian's kernel with the busybox initrd under
 * TCG: a user-mode guest cannot reach a service bound to the host's
 * 127.0.0.1 (through 10.0.2.2) unless `--allow-host-loopback` is given, and
 * `-e` values do not appear in QEMU's argv (readable by every user via ps).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { debianKernel, noBusybox, prepareLinuxRootfs } from "../helpers/guests.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { qemuPidsUnder, waitForLog } from "../helpers/machines.js";

const { kernel, skip: noKernel } = debianKernel();
const skip = noKernel ?? noBusybox();

describe("exposure: host loopback and secrets", { skip }, () => {
  let shared = "";
  let rootfs = "";
  let server: Server;
  let port = 0;
  before(async () => {
    shared = mkdtempSync(join(tmpdir(), "kiln-e2e-exposure-"));
    rootfs = prepareLinuxRootfs(join(shared, "rootfs"), kernel!);
    // A plain TCP service (busybox's static wget crashes resolving names): it speaks first.
    server = createServer((sock) => sock.end("LOOPBACK-ONLY-SERVICE\n"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as { port: number }).port;
  });
  after(() => {
    server.close();
    rmSync(shared, { recursive: true, force: true });
  });

  const fetchFromGuest = (home: string, extra: string[]) =>
    runKiln(
      [
        "run",
        "-W",
        "--rm",
        kernel!,
        "--initrd",
        rootfs,
        "-a",
        "quiet",
        ...extra,
        "--",
        "nc",
        "-w",
        "5",
        "10.0.2.2",
        String(port),
      ],
      { env: { KILN_HOME: home }, timeoutMs: 240_000 },
    );

  test("by default the guest cannot reach the host's 127.0.0.1; --allow-host-loopback lets it", async (t) => {
    const home = scratchDir(t);
    const started = Date.now();
    const closed = await fetchFromGuest(home, []);
    assert.equal(closed.code, 0, closed.stderr);
    assert.match(closed.stdout, /hello from Linux/);
    assert.doesNotMatch(closed.stdout, /LOOPBACK-ONLY-SERVICE/);
    assert.match(closed.stdout, /kiln-guest: command exited with [1-9]/);
    const open = await fetchFromGuest(home, ["--allow-host-loopback"]);
    assert.equal(open.code, 0, open.stderr);
    assert.match(open.stdout, /LOOPBACK-ONLY-SERVICE/);
    assert.match(open.stdout, /kiln-guest: command exited with 0/);
    t.diagnostic(`two boots took ${Date.now() - started} ms`);
  });

  test("-e values reach init but not QEMU's argv", async (t) => {
    const home = scratchDir(t);
    const env = { KILN_HOME: home };
    const secret = "hunter2-s3cret-value";
    const r = await runKiln(
      [
        "run",
        "-W",
        "-d",
        "-n",
        "sec",
        kernel!,
        "--initrd",
        rootfs,
        "-a",
        "quiet",
        "-e",
        `DB_PASSWORD=${secret}`,
        "-e",
        "KILN_KEEP_RUNNING=1",
        "--",
        "env",
      ],
      { env },
    );
    assert.equal(r.code, 0, r.stderr);
    await waitForLog(home, "sec", new RegExp(`DB_PASSWORD=${secret}`), 180_000);
    const pids = qemuPidsUnder(home);
    assert.equal(pids.length, 1);
    const argv = readFileSync(`/proc/${pids[0]}/cmdline`, "utf8");
    assert.doesNotMatch(argv, new RegExp(secret));
    assert.match(argv, /-readconfig\0/);
    const rm = await runKiln(["rm", "-f", "sec"], { env });
    assert.equal(rm.code, 0, rm.stderr);
  });
});
