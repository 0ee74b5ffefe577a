/**
 * `kiln build` against a real Unikraft tree (KILN_TEST_UNIKRAFT, a checkout
 * of RELEASE-0.17.0 or similar; see DEVELOPERS.md): a hello-world
 * application written here builds for qemu/x86_64 and boots under TCG, its
 * qemu/arm64 target cross-builds (Kiln picks aarch64-linux-gnu- itself) and
 * boots on `-M virt`, and its fc/x86_64 image is produced. Skipped, with the
 * reason, when KILN_TEST_UNIKRAFT is unset.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runKiln } from "../helpers/kiln.js";
import { bootUnikraft, UNIKRAFT_TREE, writeHelloworldApp } from "../helpers/unikraft.js";

const skip = UNIKRAFT_TREE
  ? false
  : "KILN_TEST_UNIKRAFT is unset (point it at a Unikraft checkout, e.g. RELEASE-0.17.0)";

describe("real Unikraft: helloworld", { skip }, () => {
  let dir = "";
  const env = () => ({ KILN_HOME: join(dir, "home") });
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "kiln-uk-hello-"));
    writeHelloworldApp(dir, UNIKRAFT_TREE!, ["qemu/x86_64", "qemu/arm64", "fc/x86_64"]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("qemu/x86_64 builds, boots under TCG printing Hello world!, and rebuilds as a no-op", async (t) => {
    const started = Date.now();
    const r = await runKiln(["build", dir, "-p", "qemu", "-m", "x86_64", "--json"], {
      env: env(),
      timeoutMs: 600_000,
    });
    assert.equal(r.code, 0, r.stderr);
    t.diagnostic(`cold build: ${Date.now() - started} ms`);
    const [built] = (JSON.parse(r.stdout) as { targets: { kernel: string; steps: number }[] }).targets;
    assert.equal(built?.kernel, join(dir, ".unikraft/build/helloworld_qemu-x86_64"));
    assert.match(
      readFileSync(join(dir, ".config.helloworld_qemu-x86_64"), "utf8"),
      /^# CONFIG_LIBUKRANDOM is not set$/m,
    );
    const bootStarted = Date.now();
    assert.match(await bootUnikraft(built.kernel), /Hello world!/);
    t.diagnostic(`boot: ${Date.now() - bootStarted} ms`);
    const log = join(dir, ".unikraft/build/helloworld_qemu-x86_64.log");
    const logText = readFileSync(log, "utf8");
    const noopStarted = Date.now();
    const again = await runKiln(["build", dir, "-t", "helloworld_qemu-x86_64", "--json"], { env: env() });
    assert.equal(again.code, 0, again.stderr);
    t.diagnostic(`no-op rebuild: ${Date.now() - noopStarted} ms`);
    const [noop] = (JSON.parse(again.stdout) as { targets: { steps: number; skippedMake: boolean }[] })
      .targets;
    assert.deepEqual([noop?.steps, noop?.skippedMake], [0, true], "nothing changed: make is not run");
    assert.equal(readFileSync(log, "utf8"), logText, "the build log still describes the cold build");
  });

  test("qemu/arm64 cross-builds with the toolchain Kiln picks and boots on -M virt", async (t) => {
    const started = Date.now();
    const r = await runKiln(["build", dir, "-p", "qemu", "-m", "arm64"], { env: env(), timeoutMs: 600_000 });
    assert.equal(r.code, 0, r.stderr);
    t.diagnostic(`cross build: ${Date.now() - started} ms`);
    assert.match(
      readFileSync(join(dir, ".unikraft/build/helloworld_qemu-arm64.log"), "utf8"),
      /CROSS_COMPILE=aarch64-linux-gnu-/,
    );
    assert.match(
      await bootUnikraft(join(dir, ".unikraft/build/helloworld_qemu-arm64"), "qemu-system-aarch64", "virt"),
      /Hello world!/,
    );
  });

  test("fc/x86_64 builds its image, and Kiln says QEMU cannot boot it", async (t) => {
    const started = Date.now();
    const r = await runKiln(["build", dir, "-p", "fc"], { env: env(), timeoutMs: 600_000 });
    assert.equal(r.code, 0, r.stderr);
    t.diagnostic(`fc build: ${Date.now() - started} ms`);
    const kernel = join(dir, ".unikraft/build/helloworld_fc-x86_64");
    assert.ok(existsSync(kernel));
    assert.equal(readFileSync(kernel).subarray(0, 4).toString("latin1"), "\x7fELF");
    assert.match(r.stdout, /QEMU cannot boot it; run it with Firecracker/);
  });
});
