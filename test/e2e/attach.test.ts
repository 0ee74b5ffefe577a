/**
 * `kiln attach` on a real pseudo-terminal (util-linux `script`): a detached
 * Linux guest's shell gets typed input and answers; Ctrl-] d detaches and
 * leaves the machine running; attaching again and pressing Ctrl-C stops it
 * (exit 130, ps says why). Real QEMU under TCG.
 */
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { formatArgv, which } from "../../src/core/exec.js";
import { debianKernel, noBusybox, prepareLinuxRootfs } from "../helpers/guests.js";
import { KILN_FROM_SOURCE, killQemusUsing, runKiln, scratchDir } from "../helpers/kiln.js";
import { qemuPidsUnder, waitForLog } from "../helpers/machines.js";

const { kernel, skip: noKernel } = debianKernel();
const skip = (which("script") ? undefined : "util-linux `script` missing") ?? noKernel ?? noBusybox();

/** `kiln attach NAME` on a pty; collects what the terminal shows. */
function attach(name: string, env: NodeJS.ProcessEnv) {
  const command = `${formatArgv([...KILN_FROM_SOURCE, "attach", name])}; echo KILN-EXIT=$?`;
  const child: ChildProcessWithoutNullStreams = spawn("script", ["-qfec", command, "/dev/null"], {
    env: { ...process.env, NO_COLOR: "1", ...env, SHELL: "/bin/bash" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString("utf8");
  });
  child.stderr.on("data", (c: Buffer) => {
    out += c.toString("utf8");
  });
  return {
    type: (keys: string) => child.stdin.write(keys),
    kill: () => child.kill("SIGKILL"),
    async waitFor(re: RegExp, timeoutMs: number): Promise<void> {
      const end = Date.now() + timeoutMs;
      while (!re.test(out)) {
        if (Date.now() > end) assert.fail(`terminal never showed ${re}; tail:\n${out.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

async function state(env: NodeJS.ProcessEnv): Promise<[string, string | undefined]> {
  const [m] = JSON.parse((await runKiln(["ps", "-a", "--json"], { env })).stdout) as {
    state: string;
    reason?: string;
  }[];
  return [m!.state, m!.reason];
}

test("kiln attach: typed input, Ctrl-] d detaches (still running), Ctrl-C stops", {
  skip,
  timeout: 300_000,
}, async (t) => {
  const dir = scratchDir(t);
  const home = join(dir, "home");
  const env = { KILN_HOME: home };
  t.after(() => killQemusUsing(home));
  const rootfs = prepareLinuxRootfs(join(dir, "rootfs"), kernel!);
  const started = Date.now();
  const run = await runKiln(
    ["run", "-d", "-W", "-n", "att", kernel!, "--initrd", rootfs, "-a", "quiet", "-e", "KILN_KEEP_RUNNING=1"],
    { env },
  );
  assert.equal(run.code, 0, run.stderr);
  await waitForLog(home, "att", /hello from Linux/, 150_000);
  await new Promise((r) => setTimeout(r, 2000)); // the shell's prompt

  const first = attach("att", env);
  t.after(() => first.kill());
  await first.waitFor(/attached to att; Ctrl-\] d detaches/, 30_000);
  first.type("echo attached-$((6*7))\r");
  await first.waitFor(/^attached-42\r?$/m, 30_000);
  first.type("\x1dd");
  await first.waitFor(/KILN-EXIT=0/, 30_000);
  assert.deepEqual(await state(env), ["running", undefined]);
  assert.equal(qemuPidsUnder(home).length, 1);

  const second = attach("att", env);
  t.after(() => second.kill());
  await second.waitFor(/attached to att/, 30_000);
  second.type("echo again-$((2+3))\r");
  await second.waitFor(/^again-5\r?$/m, 30_000);
  second.type("\x03");
  await second.waitFor(/KILN-EXIT=130/, 30_000);
  assert.deepEqual(await state(env), ["exited", "stopped by Ctrl-C"]);
  assert.deepEqual(qemuPidsUnder(home), []);
  t.diagnostic(`attach session took ${Date.now() - started} ms`);
});
