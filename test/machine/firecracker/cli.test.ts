/**
 * `kiln run --vmm firecracker` end to end through the CLI and the instance
 * store: the no-binary error (for a kernel file and for a project target with
 * platform fc), QEMU's clear refusal of an fc-style image, and a detached
 * machine on the spec-checking stand-in through run, ps, logs, stop and rm.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { installFakeFirecracker } from "../../fakes/firecracker-standin.js";
import { runKiln, scratchDir, sharedSkip } from "../../helpers/kiln.js";
import { buildTestElf } from "./elf-fixture.js";

/** These tests check requests against Firecracker's API spec in the shared reference data. */
const noSpec = sharedSkip("data/firecracker/firecracker-api.yaml");

/** PATH without any firecracker (the host has none; /usr/bin has gcc, sh). */
const NO_FC_PATH = "/usr/bin:/bin";

test("without the binary, kernel file and fc project target fail clearly; QEMU refuses the fc image clearly", async (t) => {
  const started = Date.now();
  const dir = scratchDir(t);
  const home = join(dir, "home");
  const pvh = buildTestElf(dir, "vmlinux-pvh", true);
  const r1 = await runKiln(["run", "--vmm", "firecracker", "--network", "none", pvh], {
    env: { PATH: NO_FC_PATH, KILN_HOME: home },
  });
  assert.equal(r1.code, 1, r1.stderr);
  assert.match(
    r1.stderr,
    /^error: firecracker not found on PATH \(needed to run machines with --vmm firecracker\)$/m,
  );
  assert.match(r1.stderr, /^hint: `--vmm qemu` runs the same machine on QEMU/m);
  assert.doesNotMatch(r1.stderr, /\n\s+at /, "no stack trace");

  // A project whose target is platform fc: Firecracker is the default VMM.
  const proj = join(dir, "proj");
  mkdirSync(join(proj, ".unikraft/build"), { recursive: true });
  writeFileSync(
    join(proj, "Kraftfile"),
    "spec: v0.6\nname: hello\nunikraft: stable\ntargets:\n  - fc/x86_64\n",
  );
  buildTestElf(join(proj, ".unikraft/build"), "hello_fc-x86_64", false);
  const r2 = await runKiln(["run", "--network", "none", proj], {
    env: { PATH: NO_FC_PATH, KILN_HOME: home },
  });
  assert.equal(r2.code, 1, r2.stderr);
  assert.match(r2.stderr, /^error: firecracker not found on PATH/m);
  // …and the hint does not promise QEMU can run an image QEMU cannot load.
  assert.match(r2.stderr, /^hint: this image has no PVH entry note, so QEMU cannot boot it either/m);

  const r3 = await runKiln(["run", "--vmm", "qemu", "--network", "none", proj], { env: { KILN_HOME: home } });
  assert.equal(r3.code, 1, r3.stderr);
  assert.match(
    r3.stderr,
    /^error: .*hello_fc-x86_64 is an ELF kernel with neither a Multiboot header nor the PVH entry note \(XEN_ELFNOTE_PHYS32_ENTRY\), so QEMU's -kernel cannot load it$/m,
  );
  t.diagnostic(`took ${Date.now() - started} ms`);
});

test("a detached Firecracker machine (stand-in) through run -d, ps --json, logs, stop and rm", {
  skip: noSpec,
}, async (t) => {
  const started = Date.now();
  const dir = scratchDir(t);
  const bin = join(dir, "bin");
  mkdirSync(bin);
  installFakeFirecracker(bin);
  const log = join(dir, "requests.jsonl");
  const env = { PATH: `${bin}:${process.env.PATH}`, KILN_HOME: join(dir, "home"), KILN_FC_STANDIN_LOG: log };
  const kernel = buildTestElf(dir, "vmlinux", true);
  const run = await runKiln(
    [
      "run",
      "-d",
      "-n",
      "fc1",
      "--vmm",
      "firecracker",
      "--network",
      "none",
      "-M",
      "128M",
      "--cpus",
      "2",
      "-a",
      "quiet",
      kernel,
    ],
    { env },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), "fc1");
  try {
    const ps = await runKiln(["ps", "--json"], { env });
    const rows = JSON.parse(ps.stdout) as Record<string, unknown>[];
    const row = rows.find((r) => r.name === "fc1");
    assert.ok(row, ps.stdout);
    assert.match(JSON.stringify(row), /firecracker/);
    // The stand-in saw only spec-valid requests, with Kiln's machine settings.
    const reqs = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { path: string; body: Record<string, unknown>; errors: string[] });
    assert.deepEqual(
      reqs.flatMap((r) => r.errors),
      [],
    );
    assert.deepEqual(reqs.find((r) => r.path === "/machine-config")?.body, {
      vcpu_count: 2,
      mem_size_mib: 128,
      smt: false,
    });
    // The console (Firecracker's stdout) is in `kiln logs`.
    let logs = await runKiln(["logs", "fc1"], { env });
    for (let i = 0; i < 50 && !logs.stdout.includes("booted"); i++)
      logs = await runKiln(["logs", "fc1"], { env });
    assert.match(
      logs.stdout,
      /stand-in guest booted: kernel=.*vmlinux args=console=ttyS0 reboot=k panic=1 pci=off quiet/,
    );
    const stop = await runKiln(["stop", "fc1"], { env });
    assert.equal(stop.code, 0, stop.stderr);
    const after = JSON.parse((await runKiln(["ps", "-a", "--json"], { env })).stdout) as Record<
      string,
      unknown
    >[];
    assert.doesNotMatch(JSON.stringify(after.find((r) => r.name === "fc1")), /"running"/);
  } finally {
    await runKiln(["rm", "-f", "fc1"], { env });
  }
  const gone = JSON.parse((await runKiln(["ps", "-a", "--json"], { env })).stdout) as Record<
    string,
    unknown
  >[];
  assert.equal(
    gone.find((r) => r.name === "fc1"),
    undefined,
  );
  t.diagnostic(`took ${Date.now() - started} ms`);
});
