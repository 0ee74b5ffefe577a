/**
 * firectl's flags on the Firecracker driver, through `kiln run -d` and the
 * spec-checking stand-in (which validates every request against
 * `../shared/data/firecracker/firecracker-api.yaml` and opens each drive's
 * file as Firecracker does): `--add-drive PATH[:ro|:rw]` (repeatable),
 * `--firecracker-binary` (a binary not on PATH), `--socket-path` (the API
 * socket elsewhere; `kiln stop` still reaches it) and `--vsock-device PATH:CID`.
 * Then the refusals: the Firecracker-only flags on QEMU, a missing drive, a
 * socket path taken by a regular file.
 */
import assert from "node:assert/strict";
import { lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { MachineSpec } from "../../../src/machine/driver.js";
import { installFakeFirecracker } from "../../fakes/firecracker-standin.js";
import { runKiln, scratchDir, sharedSkip } from "../../helpers/kiln.js";
import { buildTestElf } from "./elf-fixture.js";

const noSpec = sharedSkip("data/firecracker/firecracker-api.yaml");

interface Logged {
  path?: string;
  body?: Record<string, unknown>;
  errors: string[];
}

test("--add-drive, --firecracker-binary, --socket-path and --vsock-device reach Firecracker as spec-valid requests", {
  skip: noSpec,
}, async (t) => {
  const started = Date.now();
  const dir = scratchDir(t, "kiln-firectl-");
  // Not on PATH: only --firecracker-binary can find it.
  mkdirSync(join(dir, "fcbin"));
  const fcBin = installFakeFirecracker(join(dir, "fcbin"));
  const log = join(dir, "requests.jsonl");
  const env = { PATH: "/usr/bin:/bin", KILN_HOME: join(dir, "home"), KILN_FC_STANDIN_LOG: log };
  const kernel = buildTestElf(dir, "vmlinux", true);
  const root = join(dir, "root.img");
  const data = join(dir, "data.img");
  const scratch = join(dir, "scratch.img");
  for (const f of [root, data, scratch]) writeFileSync(f, Buffer.alloc(64 * 1024));
  const apiSocket = join(dir, "api.sock");
  const vsockPath = join(dir, "v.sock");
  const run = await runKiln(
    [
      "run",
      "-d",
      "-n",
      "fcx",
      "--vmm",
      "firecracker",
      "--network",
      "none",
      "--firecracker-binary",
      fcBin,
      "--socket-path",
      apiSocket,
      "--vsock-device",
      `${vsockPath}:7`,
      "--rootfs",
      root,
      "--add-drive",
      `${data}:ro`,
      "--add-drive",
      scratch,
      kernel,
    ],
    { env },
  );
  assert.equal(run.code, 0, run.stderr);
  try {
    const reqs = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Logged);
    assert.deepEqual(
      reqs.flatMap((r) => r.errors),
      [],
    );
    const body = (p: string) => reqs.find((r) => r.path === p)?.body;
    assert.deepEqual(body("/drives/rootfs"), {
      drive_id: "rootfs",
      path_on_host: root,
      is_root_device: true,
      is_read_only: false,
    });
    assert.deepEqual(body("/drives/drive1"), {
      drive_id: "drive1",
      path_on_host: data,
      is_root_device: false,
      is_read_only: true,
    });
    assert.deepEqual(body("/drives/drive2"), {
      drive_id: "drive2",
      path_on_host: scratch,
      is_root_device: false,
      is_read_only: false,
    });
    assert.deepEqual(body("/vsock"), { guest_cid: 7, uds_path: vsockPath });
    // Firecracker bound its API socket where asked; the machine directory links to it.
    assert.ok(statSync(apiSocket).isSocket());
    assert.ok(statSync(vsockPath).isSocket());
    const inspect = JSON.parse((await runKiln(["inspect", "fcx", "--json"], { env })).stdout) as {
      spec: MachineSpec;
      dir: string;
    };
    assert.ok(lstatSync(join(inspect.dir, "fc.sock")).isSymbolicLink());
    assert.deepEqual(inspect.spec.drives, [
      { path: data, readOnly: true },
      { path: scratch, readOnly: false },
    ]);
    const text = (await runKiln(["inspect", "fcx"], { env })).stdout;
    assert.match(text, new RegExp(`^drives: +${data}:ro, ${scratch}$`, "m"));
    assert.match(text, new RegExp(`^vsock: +CID 7 \\(host side: ${vsockPath}\\)$`, "m"));
    // The supervisor stamps every VMM's console lines (console.times): logs -t on Firecracker too,
    // and a follower started now prints the later lines stamped until the machine ends.
    const STAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z /;
    let stamped = "";
    for (let i = 0; i < 50 && !/booted/.test(stamped); i++) {
      await new Promise((r) => setTimeout(r, 100));
      stamped = (await runKiln(["logs", "-t", "fcx"], { env })).stdout;
    }
    assert.match(stamped, new RegExp(`${STAMP.source}stand-in guest booted: kernel=`, "m"));
    const follow = runKiln(["logs", "-f", "-t", "--since", "0s", "fcx"], { env });
    await new Promise((r) => setTimeout(r, 1500));
    // kiln stop reaches the API socket through the link: SendCtrlAltDel ends the stand-in.
    const stop = await runKiln(["stop", "fcx"], { env });
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(readFileSync(log, "utf8"), /"path":"\/actions".*"SendCtrlAltDel"/);
    const followed = await follow;
    assert.equal(followed.code, 0, followed.stderr);
    assert.doesNotMatch(followed.stdout, /booted/, "--since 0s: the boot line is older");
    const later = followed.stdout.split("\n").filter((l) => l !== "");
    assert.ok(
      later.some((l) => /reboot: Restarting system/.test(l)),
      followed.stdout,
    );
    for (const l of later) assert.match(l, STAMP);
    // kiln start boots it again (same socket paths): the log is the new boot's, its times aligned.
    const again = await runKiln(["start", "fcx"], { env });
    assert.equal(again.code, 0, again.stderr);
    let relog = "";
    for (let i = 0; i < 50 && !/booted/.test(relog); i++) {
      await new Promise((r) => setTimeout(r, 100));
      relog = (await runKiln(["logs", "fcx"], { env })).stdout;
    }
    assert.equal(relog.match(/stand-in guest booted/g)?.length, 1, relog);
    const restamped = (await runKiln(["logs", "-t", "fcx"], { env })).stdout;
    assert.equal(restamped.replace(new RegExp(STAMP.source, "gm"), ""), relog);
  } finally {
    await runKiln(["rm", "-f", "fcx"], { env });
  }
  t.diagnostic(`took ${Date.now() - started} ms`);
});

test("firectl's flags: clear refusals on QEMU, for a missing drive and for a socket path that is a file", async (t) => {
  const dir = scratchDir(t, "kiln-firectl-bad-");
  const env = { KILN_HOME: join(dir, "home") };
  const kernel = buildTestElf(dir, "vmlinux", true);
  const qemu = ["run", "-W", "--network", "none", kernel];
  const cases: [string[], RegExp][] = [
    [
      ["--socket-path", join(dir, "s")],
      /^error: --socket-path applies to --vmm firecracker only, and this run uses qemu: QEMU's control socket is qmp\.sock/m,
    ],
    [
      ["--firecracker-binary", "/bin/true"],
      /^error: --firecracker-binary applies to --vmm firecracker only, and this run uses qemu/m,
    ],
    [
      ["--vsock-device", `${join(dir, "v.sock")}:3`],
      /^error: (--vsock-path applies to --vmm firecracker only|--vsock on QEMU needs)/m,
    ],
    [
      ["--vsock-path", join(dir, "v.sock")],
      /^error: --vsock-path names the host side of a vsock device: add --vsock CID$/m,
    ],
    [["--vsock-device", "nocid"], /^error: --vsock-device "nocid" is not PATH:CID$/m],
    [["--add-drive", join(dir, "absent.img:ro")], /^error: --add-drive .*absent\.img does not exist$/m],
    [["--add-drive", ":ro"], /^error: --add-drive ":ro" has no path$/m],
    [["--add-drive", dir], /^error: --add-drive .* is a directory, not a file$/m],
  ];
  for (const [flags, re] of cases) {
    const r = await runKiln([...qemu.slice(0, -1), ...flags, kernel], { env });
    assert.notEqual(r.code, 0, `${flags.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re, flags.join(" "));
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  }
  // Nothing was created by any refusal.
  const ps = JSON.parse((await runKiln(["ps", "-a", "--json"], { env })).stdout) as unknown[];
  assert.deepEqual(ps, []);
});

test("--socket-path that is a regular file is refused and left alone; a bad --firecracker-binary is named", {
  skip: noSpec,
}, async (t) => {
  const dir = scratchDir(t, "kiln-firectl-file-");
  mkdirSync(join(dir, "fcbin"));
  const fcBin = installFakeFirecracker(join(dir, "fcbin"));
  const env = { PATH: "/usr/bin:/bin", KILN_HOME: join(dir, "home") };
  const kernel = buildTestElf(dir, "vmlinux", true);
  const taken = join(dir, "notes.txt");
  writeFileSync(taken, "keep me\n");
  const base = ["run", "--vmm", "firecracker", "--network", "none"];
  const r = await runKiln([...base, "--firecracker-binary", fcBin, "--socket-path", taken, kernel], { env });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^error: the API socket .*notes\.txt exists and is not a socket$/m);
  assert.equal(readFileSync(taken, "utf8"), "keep me\n");
  const missing = join(dir, "no-such-firecracker");
  const r2 = await runKiln([...base, "--firecracker-binary", missing, kernel], { env });
  assert.equal(r2.code, 1, r2.stderr);
  assert.match(r2.stderr, /^error: --firecracker-binary .*no-such-firecracker is not an executable file$/m);
});
