/**
 * `kiln run` on a Multiboot kernel (a stand-in for a Unikraft image): real
 * QEMU under TCG, `-M pc` planning, the command line Kiln builds, and the
 * exit code mapped back from `isa-debug-exit`.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { probeKvm } from "../../src/machine/qemu/accel.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { qemuPidsUnder, waitForLog } from "../helpers/machines.js";
import { buildMultibootStandin } from "./guests.js";

test("multiboot stand-in: marker printed, args passed, guest exit code returned", async (t) => {
  const dir = scratchDir(t);
  const kernel = buildMultibootStandin(dir);
  const env = { KILN_HOME: dir };
  const started = Date.now();
  const r = await runKiln(
    ["run", "-n", "mb1", kernel, "-a", "exit=3", "-e", "GREETING=hi", "--", "app-arg"],
    { env },
  );
  t.diagnostic(`boot took ${Date.now() - started} ms (including tsx start-up)`);
  assert.match(r.stdout, /KILN-MULTIBOOT-OK/);
  assert.match(r.stdout, /cmdline: \S*standin_qemu-x86_64 exit=3 env\.vars=\[ 'GREETING=hi' \] -- app-arg/);
  assert.equal(r.code, 3, r.stderr);
  // Exactly one line about acceleration when KVM is unusable here (as on the reference machine), none when it works.
  const kvm = await probeKvm("x86_64");
  const notices = r.stderr.split("\n").filter((l) => /KVM/.test(l));
  assert.equal(notices.length, kvm.usable ? 0 : 1, r.stderr);
  if (!kvm.usable) assert.match(notices[0]!, /^notice: KVM is not usable \(.+\); using TCG emulation/);
  const ps = await runKiln(["ps", "-a", "--json"], { env });
  const [m] = JSON.parse(ps.stdout) as { name: string; state: string; exitCode: number; reason: string }[];
  assert.deepEqual([m?.name, m?.state, m?.exitCode, m?.reason], ["mb1", "exited", 3, "exited with code 3"]);
  const inspect = await runKiln(["inspect", "mb1"], { env });
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.match(inspect.stdout, /^state: +exited \(3\): exited with code 3$/m);
  assert.match(inspect.stdout, /^kernel: +\S+standin_qemu-x86_64 \(multiboot, unikraft, x86_64\)$/m);
  assert.match(inspect.stdout, /^command: +qemu-system-x86_64 .*-machine pc .*-device isa-debug-exit/m);
});

test("--initrd DIR: kiln inspect shows the CPIO Kiln packed for the machine", async (t) => {
  const dir = scratchDir(t);
  const env = { KILN_HOME: dir };
  const tree = join(dir, "tree");
  mkdirSync(tree);
  writeFileSync(join(tree, "init"), "#!/bin/sh\n");
  const r = await runKiln(
    ["run", "-W", "-n", "mbi", buildMultibootStandin(dir), "--initrd", tree, "-a", "exit=3"],
    { env },
  );
  assert.equal(r.code, 3, `${r.stderr}\n${r.stdout}`);
  const inspect = await runKiln(["inspect", "mbi"], { env });
  assert.match(inspect.stdout, /^initrd: +\S+\/machines\/mbi\/initrd\.cpio$/m);
});

test("-W skips the KVM probe: no acceleration notice; --rm removes the machine", async (t) => {
  const dir = scratchDir(t);
  const kernel = buildMultibootStandin(dir);
  const env = { KILN_HOME: dir };
  const r = await runKiln(["run", "-W", "--rm", kernel, "-a", "exit=0"], { env });
  assert.match(r.stdout, /KILN-MULTIBOOT-OK/);
  assert.doesNotMatch(r.stderr, /KVM/);
  assert.equal((await runKiln(["ps", "-a", "--json"], { env })).stdout.trim(), "[]");
});

test("a name already taken is refused before anything starts", async (t) => {
  const dir = scratchDir(t);
  const kernel = buildMultibootStandin(dir);
  const env = { KILN_HOME: dir };
  await runKiln(["run", "-W", "-n", "same", kernel], { env });
  const r = await runKiln(["run", "-W", "-n", "same", kernel], { env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: a machine named "same" already exists/);
  assert.match(r.stderr, /hint: remove it with: kiln rm -f same/);
});

test("a file that is not a kernel: clear error, no machine left behind", async (t) => {
  const dir = scratchDir(t);
  const env = { KILN_HOME: dir };
  const r = await runKiln(["run", "package.json"], { env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: \S*package\.json is not a kernel Kiln can boot/);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
  assert.equal((await runKiln(["ps", "-a", "--json"], { env })).stdout.trim(), "[]");
  const kernel = buildMultibootStandin(dir);
  const noInitrd = await runKiln(["run", "-W", kernel, "--initrd", join(dir, "missing.cpio")], { env });
  assert.equal(noInitrd.code, 1);
  assert.match(noInitrd.stderr, /error: --initrd \S+missing\.cpio does not exist/);
  const noVolume = await runKiln(
    ["run", "-W", buildMultibootStandin(dir), "-v", `${join(dir, "nope")}:/data`],
    { env },
  );
  assert.match(noVolume.stderr, /error: -v \S+nope does not exist/);
  // A file that is no disk image is attached (the user asked for it) with a warning saying so.
  const textRoot = await runKiln(
    ["run", "-W", "--rm", buildMultibootStandin(dir), "--rootfs", "package.json", "-a", "exit=3"],
    {
      env,
    },
  );
  assert.equal(textRoot.code, 3, textRoot.stderr);
  assert.match(
    textRoot.stderr,
    /warning: --rootfs \S+package\.json does not look like a disk image \(no filesystem or partition table Kiln knows\); the guest gets it as a writable disk/,
  );
  // A directory as --rootfs of a Unikraft guest is its initrd, as kraft run --rootfs does: packed to
  // CPIO in the machine's directory and given to QEMU as -initrd, never as a disk.
  const tree = join(dir, "tree");
  mkdirSync(tree);
  writeFileSync(join(tree, "hello.txt"), "hi\n");
  const dirRoot = await runKiln(
    ["run", "-W", "-n", "dr", buildMultibootStandin(dir), "--rootfs", tree, "-a", "exit=3"],
    {
      env,
    },
  );
  assert.equal(dirRoot.code, 3, dirRoot.stderr);
  const inspected = JSON.parse((await runKiln(["inspect", "dr", "--json"], { env })).stdout) as {
    spec: { initrd?: string; rootfs?: string };
    record: { argv: string[] };
    dir: string;
  };
  assert.equal(inspected.spec.initrd, join(inspected.dir, "initrd.cpio"));
  assert.equal(inspected.spec.rootfs, undefined);
  assert.ok(inspected.record.argv.includes("-initrd") && !inspected.record.argv.includes("-drive"));
  await runKiln(["rm", "dr"], { env });
  assert.equal((await runKiln(["ps", "-a", "--json"], { env })).stdout.trim(), "[]");
});

test("--wait-for exits 0 on a match and stops the VM; --timeout fails with the last console lines", async (t) => {
  const dir = scratchDir(t);
  const kernel = buildMultibootStandin(dir);
  const env = { KILN_HOME: dir };
  const w = await runKiln(["run", "-W", "-n", "w", kernel, "-a", "hang", "--wait-for", "still-wait[a-z]+"], {
    env,
  });
  assert.equal(w.code, 0, w.stderr);
  assert.match(w.stderr, /kiln: console matched \/still-wait\[a-z\]\+\/m; stopped machine w/);
  const to = await runKiln(
    ["run", "-W", "-n", "t", kernel, "-a", "hang", "--timeout", "2", "--wait-for", "NEVER"],
    { env },
  );
  assert.equal(to.code, 1);
  assert.match(
    to.stderr,
    /error: machine t ran for 2 s without its console matching \/NEVER\/m \(--timeout\)/,
  );
  assert.match(to.stderr, /last console lines:\n(.*\n)*\s+\| still-waiting\n/);
  const machines = JSON.parse((await runKiln(["ps", "-a", "--json"], { env })).stdout) as {
    name: string;
    state: string;
    exitCode: number;
    reason: string;
  }[];
  // ps agrees with the shell: a match is success, a timeout the status Kiln exited with.
  assert.deepEqual(
    machines.map((m) => [m.name, m.state, m.exitCode, m.reason]),
    [
      ["w", "exited", 0, '--wait-for matched "still-waiting"'],
      ["t", "exited", 1, "--timeout reached"],
    ],
  );
});

test("-d --json prints the record; logs -f follows until the machine stops; --network tap without its device is refused", async (t) => {
  const dir = scratchDir(t);
  const kernel = buildMultibootStandin(dir);
  const env = { KILN_HOME: dir };
  const d = await runKiln(["run", "-W", "-d", "--json", "-n", "bg", kernel, "-a", "hang"], { env });
  assert.equal(d.code, 0, d.stderr);
  const rec = JSON.parse(d.stdout) as { name: string; state: string; pid: number; accel: string };
  assert.deepEqual([rec.name, rec.state, rec.accel], ["bg", "running", "tcg"]);
  for (const sock of ["qmp.sock", "console.in", "console.log"]) {
    assert.equal(statSync(join(dir, "state/machines/bg", sock)).mode & 0o777, 0o600, sock);
  }
  const following = runKiln(["logs", "-f", "bg"], { env });
  const log = join(dir, "state/machines/bg/console.log");
  for (let i = 0; i < 300 && !(existsSync(log) && readFileSync(log, "utf8").includes("still-waiting")); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = await runKiln(["stop", "-t", "0", "bg"], { env });
  assert.equal(stop.code, 0, stop.stderr);
  const f = await following;
  assert.equal(f.code, 0, f.stderr);
  assert.match(f.stdout, /KILN-MULTIBOOT-OK\r?\ncmdline: \S+ hang --\r?\nstill-waiting/);
  const tap = await runKiln(["run", "-W", "--network", "tap", "-n", "tapped", kernel], { env });
  assert.equal(tap.code, 1);
  assert.match(
    tap.stderr,
    /error: --network tap needs the tap device kt-tapped, which does not exist; creating one requires CAP_NET_ADMIN/,
  );
  assert.match(tap.stderr, /hint: once, as root: ip tuntap add dev kt-tapped mode tap user \d+/);
  const names = (
    JSON.parse((await runKiln(["ps", "-a", "--json"], { env })).stdout) as { name: string }[]
  ).map((m) => m.name);
  assert.deepEqual(names, ["bg"]);
});

test("a detached --rm machine is removed once it has exited", async (t) => {
  const dir = scratchDir(t);
  const kernel = buildMultibootStandin(dir);
  const env = { KILN_HOME: dir };
  const d = await runKiln(["run", "-W", "-d", "--rm", "-n", "gone", kernel, "-a", "exit=0"], { env });
  assert.equal(d.code, 0, d.stderr);
  const pid = (
    JSON.parse(readFileSync(join(dir, "state/machines/gone/state.json"), "utf8")) as { pid: number }
  ).pid;
  for (let i = 0; i < 300 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal((await runKiln(["ps", "-a", "--json"], { env })).stdout.trim(), "[]");
  assert.equal(existsSync(join(dir, "state/machines/gone")), false);
});

test("a Unikraft image configured with CONFIG_LIBUKRANDOM=y gets the RDSEED warning under TCG", async (t) => {
  const dir = scratchDir(t);
  const kernel = buildMultibootStandin(dir);
  writeFileSync(join(dir, "config"), "CONFIG_LIBUKDEBUG=y\nCONFIG_LIBUKRANDOM=y\n");
  const r = await runKiln(["run", "-W", kernel], { env: { KILN_HOME: dir } });
  assert.match(
    r.stderr,
    /warning: \S+ was built with CONFIG_LIBUKRANDOM=y, which needs RDSEED; .*"# CONFIG_LIBUKRANDOM is not set"/,
  );
  writeFileSync(join(dir, "config"), "# CONFIG_LIBUKRANDOM is not set\n");
  const quiet = await runKiln(["run", "-W", kernel], { env: { KILN_HOME: dir } });
  assert.doesNotMatch(quiet.stderr, /RDSEED/);
});

test("Unikraft -e values reach the guest's command line but not QEMU's argv", async (t) => {
  const dir = scratchDir(t);
  const kernel = buildMultibootStandin(dir);
  const env = { KILN_HOME: dir };
  const secret = 'hunter2 s3cret\\x"y';
  const r = await runKiln(["run", "-W", "-d", "-n", "sec", kernel, "-e", "TOKEN=abc def", "--", "hang"], {
    env,
  });
  t.after(() => runKiln(["rm", "-f", "sec"], { env }));
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /visible/);
  await waitForLog(dir, "sec", /still-waiting/);
  const log = readFileSync(join(dir, "state/machines/sec/console.log"), "utf8");
  assert.match(log, /cmdline: \S+ env\.vars=\[ 'TOKEN=abc def' \] -- hang/);
  const pids = qemuPidsUnder(dir);
  assert.equal(pids.length, 1);
  const argv = readFileSync(`/proc/${pids[0]}/cmdline`, "utf8");
  assert.doesNotMatch(argv, /abc def/);
  assert.match(argv, /-readconfig\0/);
  // a value holding a " cannot go through QEMU's config file: -append, and a warning that says so
  const q = await runKiln(["run", "-W", "-n", "q", kernel, "-a", "exit=4", "-e", `K=${secret}`], { env });
  assert.equal(q.code, 4, q.stderr);
  assert.match(q.stderr, /visible in QEMU's command line \(ps\) because it holds a double quote/);
  assert.ok(q.stdout.includes(`env.vars=[ 'K=${secret}' ]`), q.stdout);
});

test("kraft's --ip and --mac on a Unikraft guest: netdev.ip= on its command line as KraftKit passes it, the MAC on its NIC", async (t) => {
  const dir = scratchDir(t);
  const env = { KILN_HOME: dir };
  const r = await runKiln(
    [
      "run",
      "-W",
      "-n",
      "uk-ip",
      buildMultibootStandin(dir),
      "--ip",
      "10.0.2.42",
      "--mac",
      "52:54:00:00:00:01",
      "-a",
      "exit=3",
    ],
    { env },
  );
  assert.equal(r.code, 3, r.stderr);
  assert.match(
    r.stdout,
    /cmdline: \S*standin_qemu-x86_64 netdev\.ip=10\.0\.2\.42\/24:10\.0\.2\.2:10\.0\.2\.3::: exit=3/,
  );
  const inspected = JSON.parse((await runKiln(["inspect", "uk-ip", "--json"], { env })).stdout) as {
    record: { argv: string[] };
  };
  assert.ok(
    inspected.record.argv.some((a) => /^virtio-net-pci,netdev=net0,romfile=,mac=52:54:00:00:00:01$/.test(a)),
    inspected.record.argv.join(" "),
  );
  await runKiln(["rm", "uk-ip"], { env });
});
