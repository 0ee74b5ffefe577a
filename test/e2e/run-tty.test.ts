/**
 * End-to-end: `kiln run` in the foreground on a real pseudo-terminal
 * (util-linux `script` gives Kiln a pty; the test writes keystrokes to
 * script's stdin and reads the terminal's output from its stdout). One boot
 * of Debian's stock kernel with the busybox initrd of `examples/hello-linux`
 * (`KILN_KEEP_RUNNING=1`: an interactive shell on ttyS0) covers: input typed
 * before the guest boots, Ctrl-] c interrupting a guest command, plain Ctrl-C
 * stopping the VM (exit 130, no QEMU left, `kiln ps` agrees) and the terminal
 * left in cooked mode. A Multiboot stand-in (Unikraft-like) shows the guest's
 * exit code comes through a pty too.
 */
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { formatArgv, which } from "../../src/core/exec.js";
import { debianKernel, noBusybox, noQemu, prepareLinuxRootfs } from "../helpers/guests.js";
import { KILN_FROM_SOURCE, killQemusUsing, runKiln, scratchDir } from "../helpers/kiln.js";
import { qemuPidsUnder } from "../helpers/machines.js";
import { buildMultibootStandin } from "../machine/guests.js";

const { kernel, skip: noKernel } = debianKernel();
const noScript = which("script") ? undefined : "util-linux `script` missing (apt-get install bsdutils)";
const skipMultiboot = noScript ?? noQemu();
const skip = skipMultiboot ?? noKernel ?? noBusybox();

/** A shell command run on a pty by `script`, with its terminal output collected. */
class PtySession {
  readonly child: ChildProcessWithoutNullStreams;
  out = "";
  readonly exited: Promise<number | null>;
  private readonly started = Date.now();

  constructor(command: string, env: NodeJS.ProcessEnv) {
    // -q quiet, -f flush at once, -e the child's exit status, -c the command; no typescript file.
    // script runs the command with $SHELL. Pin bash: a Ctrl-C typed while the terminal is cooked
    // signals the whole foreground group, and dash (Debian's /bin/sh, used when SHELL is unset)
    // then dies before `echo KILN-EXIT=$?`, while bash waits and carries on when the child exits
    // normally ("wait and cooperative exit", https://www.cons.org/cracauer/sigint.html).
    this.child = spawn("script", ["-qfec", command, "/dev/null"], {
      env: { ...process.env, NO_COLOR: "1", ...env, SHELL: "/bin/bash" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stdout.on("data", (c: Buffer) => {
      this.out += c.toString("utf8");
    });
    this.child.stderr.on("data", (c: Buffer) => {
      this.out += c.toString("utf8");
    });
    this.exited = new Promise((resolve) => this.child.on("close", (code) => resolve(code)));
  }

  /** Keystrokes, as a terminal would send them. */
  type(keys: string): void {
    this.child.stdin.write(keys);
  }

  ms(): number {
    return Date.now() - this.started;
  }

  /** Wait until the output (from `from` on) matches `re`; fails with the output's tail after `timeoutMs`. */
  async waitFor(re: RegExp, timeoutMs: number, from = 0): Promise<number> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.out.slice(from));
      if (m) return from + m.index + m[0].length;
      if (Date.now() > end || this.child.exitCode !== null)
        assert.fail(`terminal output never matched ${re}; tail:\n${this.out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  kill(): void {
    this.child.kill("SIGKILL");
  }
}

async function machines(env: NodeJS.ProcessEnv): Promise<[string, string, string | undefined][]> {
  const r = await runKiln(["ps", "-a", "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { name: string; state: string; reason?: string }[]).map((m) => [
    m.name,
    m.state,
    m.reason,
  ]);
}

/** `kiln …` on the pty, then its exit status and the terminal's settings as `stty -a` sees them. */
function kilnThenStty(args: string[]): string {
  const kiln = formatArgv([...KILN_FROM_SOURCE, ...args]);
  return `${kiln}; echo KILN-EXIT=$?; stty -a`;
}

/** `kiln run` of machine `name`: Debian's kernel and the example initrd, ending in its interactive shell. */
function runShellGuest(name: string, rootfs: string): string[] {
  return ["run", "-W", "-n", name, kernel!, "--initrd", rootfs, "-a", "quiet", "-e", "KILN_KEEP_RUNNING=1"];
}

/** Whether `stty -a` output shows a cooked terminal: `icanon` and `echo` on (not `-icanon`, `-echo`). */
function assertCooked(stty: string): void {
  assert.match(stty, /(^|[\s;])icanon([\s;]|$)/m, `terminal left without icanon:\n${stty}`);
  assert.match(stty, /(^|[\s;])echo([\s;]|$)/m, `terminal left without echo:\n${stty}`);
}

describe("kiln run on a pseudo-terminal", { skip }, () => {
  let shared = "";
  let rootfs = "";
  before(() => {
    shared = mkdtempSync(join(tmpdir(), "kiln-e2e-tty-"));
    rootfs = prepareLinuxRootfs(join(shared, "rootfs"), kernel!);
  });
  after(() => rmSync(shared, { recursive: true, force: true }));

  test("typed-early input, Ctrl-] c to the guest, Ctrl-C stops the VM, terminal restored", async (t) => {
    const home = scratchDir(t);
    const env = { KILN_HOME: home };
    const pty = new PtySession(kilnThenStty(runShellGuest("tty", rootfs)), env);
    t.after(() => {
      pty.kill();
      killQemusUsing(home);
    });

    // (a) Typed at once, long before the guest (or even Kiln) is up.
    pty.type("echo typed-early-$((6*7))\r");
    let at = await pty.waitFor(/^typed-early-42\r?$/m, 150_000);
    t.diagnostic(`typed-early command ran after ${pty.ms()} ms`);
    assert.equal(pty.out.match(/^typed-early-42\r?$/gm)?.length, 1, "the early command ran once");

    // (b) A guest command interrupted with the escape for "send Ctrl-C to the guest"; the VM keeps running.
    pty.type("sleep 1000\r");
    at = await pty.waitFor(/sleep 1000/, 20_000, at);
    await new Promise((r) => setTimeout(r, 1500));
    const beforeEscape = pty.out.length;
    pty.type("\x1dc");
    await new Promise((r) => setTimeout(r, 1500));
    pty.type("echo after-interrupt-$((2+3))\r");
    at = await pty.waitFor(/^after-interrupt-5\r?$/m, 30_000, beforeEscape);
    t.diagnostic(`Ctrl-] c interrupted the guest's sleep; at ${pty.ms()} ms`);
    assert.equal(qemuPidsUnder(home).length, 1, "the VM is still running");

    // (c) Plain Ctrl-C stops the VM cleanly, with status 130.
    const stopAt = Date.now();
    pty.type("\x03");
    const code = await Promise.race([
      pty.exited,
      new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 30_000)),
    ]);
    t.diagnostic(`Ctrl-C to Kiln's exit took ${Date.now() - stopAt} ms`);
    assert.notEqual(code, "timeout", `Kiln did not exit after Ctrl-C; tail:\n${pty.out.slice(-3000)}`);
    const rest = pty.out.slice(at);
    assert.match(rest, /kiln: stopped machine tty/);
    assert.match(rest, /KILN-EXIT=130\r?$/m);
    assert.deepEqual(qemuPidsUnder(home), []);
    assert.deepEqual(await machines(env), [["tty", "exited", "stopped by Ctrl-C"]]);

    // (d) The terminal is back in cooked mode.
    assertCooked(rest.slice(rest.indexOf("KILN-EXIT=")));
  });

  test("the terminal closing (SIGHUP) stops the VM: no QEMU left, ps says why", async (t) => {
    const home = scratchDir(t);
    const env = { KILN_HOME: home };
    const pty = new PtySession(kilnThenStty(runShellGuest("hup", rootfs)), env);
    t.after(() => {
      pty.kill();
      killQemusUsing(home);
    });
    await pty.waitFor(/hello from Linux/, 150_000);
    // script dies, the pty's master closes: the kernel sends SIGHUP to Kiln's process group.
    pty.kill();
    const closedAt = Date.now();
    let state: [string, string, string | undefined][] = [];
    while (Date.now() - closedAt < 20_000) {
      state = await machines(env);
      if (state[0]?.[1] === "exited" && qemuPidsUnder(home).length === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    t.diagnostic(`terminal closed to machine exited: ${Date.now() - closedAt} ms`);
    assert.deepEqual(qemuPidsUnder(home), []);
    assert.deepEqual(state, [["hup", "exited", "stopped: its terminal closed"]]);
  });

  test("Ctrl-C while the VMM starts (before the console is attached) stops it: no QEMU left", async (t) => {
    const home = scratchDir(t);
    const env = { KILN_HOME: home };
    const argv = ["run", "-W", "-n", "early", kernel!, "--initrd", rootfs, "-a", "quiet"];
    const pty = new PtySession(kilnThenStty(argv), env);
    t.after(() => {
      pty.kill();
      killQemusUsing(home);
    });
    // QEMU has just written its pid file; Kiln is still waiting for its console socket.
    const pidFile = join(home, "state/machines/early/vmm.pid");
    while (!existsSync(pidFile) && pty.child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
    pty.type("\x03");
    await pty.exited;
    t.diagnostic(`run interrupted while starting took ${pty.ms()} ms`);
    assert.match(pty.out, /KILN-EXIT=130\r?$/m);
    assert.deepEqual(qemuPidsUnder(home), []);
    assert.deepEqual(await machines(env), [["early", "exited", "stopped by Ctrl-C"]]);
    assertCooked(pty.out.slice(pty.out.indexOf("KILN-EXIT=")));
  });
});

test("a Multiboot (Unikraft-like) guest: its exit code through the pty, terminal restored", {
  skip: skipMultiboot,
}, async (t) => {
  const home = scratchDir(t);
  const standin = buildMultibootStandin(home);
  const pty = new PtySession(kilnThenStty(["run", "-W", "-n", "mb", standin, "-a", "exit=3"]), {
    KILN_HOME: home,
  });
  t.after(() => {
    pty.kill();
    killQemusUsing(home);
  });
  await pty.exited;
  t.diagnostic(`Multiboot run on a pty took ${pty.ms()} ms`);
  assert.match(pty.out, /cmdline: \S*standin_qemu-x86_64 exit=3/);
  assert.match(pty.out, /KILN-EXIT=3\r?$/m);
  assertCooked(pty.out.slice(pty.out.indexOf("KILN-EXIT=")));
  assert.deepEqual(qemuPidsUnder(home), []);
});
