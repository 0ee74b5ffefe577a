import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { scratchDir } from "../../test/helpers/kiln.js";
import { machineSpec } from "../../test/helpers/specs.js";
import { WAIT_FOR_SETTLE_MS, watchMachine } from "./launch.js";
import { createInstance, instanceDir, updateRecord } from "./store.js";

/** A running machine record whose "VMM" is a `sleep` carrying the instance directory in its argv. */
async function runningMachine(t: import("node:test").TestContext, env: NodeJS.ProcessEnv): Promise<string> {
  const { name: _n, ...spec } = machineSpec({ kernel: "/k", kernelKind: "multiboot", guest: "unikraft" });
  const made = await createInstance(
    spec,
    { vmm: "qemu", platform: "qemu", autoRemove: false, detached: false, name: "w" },
    env,
  );
  const dir = instanceDir(made.spec.name, env);
  const vmm = spawn("sh", ["-c", "sleep 30", dir], { stdio: "ignore" });
  t.after(() => vmm.kill("SIGKILL"));
  await updateRecord(made.spec.name, (r) => ({ ...r, state: "running", pid: vmm.pid }), env);
  return made.spec.name;
}

test("--wait-for: a match in a line still being written waits for the line; a prompt matches once quiet", async (t) => {
  const env = { KILN_HOME: scratchDir(t) };
  const name = await runningMachine(t, env);
  // The console log read so far ends in half a line that the pattern already matches.
  let text = "booting\r\nKILN-42 half";
  const outcome = watchMachine(name, { env, waitFor: /KILN-42 .*/, consoleText: () => text });
  // Keep the console busy (as a UART writing the line is) for longer than the settle time.
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, WAIT_FOR_SETTLE_MS / 2));
    text += "-";
  }
  text += " and whole\r\n";
  assert.deepEqual(await outcome, { kind: "matched", match: "KILN-42 half----- and whole" });

  // A prompt never gets its newline: it matches once the console has stayed quiet.
  const started = Date.now();
  const prompt = await watchMachine(name, { env, waitFor: /sqlite> /, consoleText: () => "x\r\nsqlite> " });
  assert.deepEqual(prompt, { kind: "matched", match: "sqlite> " });
  assert.ok(Date.now() - started >= WAIT_FOR_SETTLE_MS, "matched before the console settled");
});
