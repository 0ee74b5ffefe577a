/**
 * Kiln's CPIO reader on archives made by bsdcpio and GNU cpio, and
 * `kiln rootfs ls` on Kiln's own archives.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { packCpio, readCpio } from "../../src/image/cpio/index.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { type Described, describeTree, makeSourceTree, withoutInodes } from "./cpio-helpers.js";

/** Describe an archive as {@link describeTree} describes a directory, reading contents through `open()`. */
async function describeArchive(file: string): Promise<Map<string, Described>> {
  const out = new Map<string, Described>();
  for await (const e of readCpio(createReadStream(file))) {
    if (e.path === ".") continue;
    const d: Described = { type: e.type, mode: e.mode };
    if (e.type === "symlink") d.target = e.linkTarget;
    if (e.type === "file") {
      const h = createHash("sha256");
      for await (const part of e.open!() as AsyncIterable<Buffer>) h.update(part);
      d.sha256 = h.digest("hex");
    }
    out.set(e.path, d);
  }
  return out;
}

test("the reader reads bsdcpio and GNU cpio newc archives (plain and gzip) as their source tree", async (t) => {
  const dir = scratchDir(t);
  const src = join(dir, "src");
  makeSourceTree(src);
  const expected = withoutInodes(describeTree(src));
  const sh = (cmd: string) =>
    execFileSync("sh", ["-c", cmd], { cwd: src, stdio: ["ignore", "ignore", "pipe"] });
  // The Unikraft tutorial's command, and GNU cpio's; hard links make both defer data to the last link.
  sh(`find . -depth -print | tac | bsdcpio -o --format newc > '${dir}/bsd.cpio'`);
  sh(`find . -depth -print | tac | cpio -o -H newc --quiet > '${dir}/gnu.cpio'`);
  sh(`gzip -c '${dir}/gnu.cpio' > '${dir}/gnu.cpio.gz'`);
  for (const name of ["bsd.cpio", "gnu.cpio", "gnu.cpio.gz"]) {
    const got = await describeArchive(join(dir, name));
    // A hard link's earlier names carry no data; compare them by the inode they share instead.
    for (const p of ["bin/multi", "etc/multi-2", "usr/multi-3"]) {
      if (got.get(p)?.sha256 === createHash("sha256").digest("hex"))
        got.set(p, { ...got.get(p)!, sha256: expected[p]!.sha256 });
    }
    assert.deepEqual(withoutInodes(got), expected, name);
  }
});

test("kiln rootfs ls lists names, a long listing, and JSON; bad input is a clear error", async (t) => {
  const dir = scratchDir(t);
  const src = join(dir, "src");
  makeSourceTree(src);
  const spec = join(dir, "spec");
  writeFileSync(spec, "/dev/console c 5 1 0600 0 0\n");
  const out = join(dir, "initrd.cpio.gz");
  await packCpio({ sourceDir: src, output: out, gzip: true, deviceSpec: spec, sourceDateEpoch: 86_400 });

  const plain = await runKiln(["rootfs", "ls", out]);
  assert.equal(plain.code, 0, plain.stderr);
  const cpioNames = execFileSync("sh", ["-c", `gzip -dc '${out}' | cpio -it --quiet`], { encoding: "utf8" });
  assert.equal(plain.stdout, cpioNames, "same names, same order as cpio -it");

  const long = await runKiln(["rootfs", "ls", "-l", out]);
  assert.equal(long.code, 0, long.stderr);
  const toolBytes = statSync(join(src, "bin/tool")).size;
  assert.match(long.stdout, new RegExp(`^-rwsr-xr-x 0/0 +${toolBytes} 1970-01-02 00:00 bin/tool$`, "m"));
  assert.match(long.stdout, /^lrwxrwxrwx 0\/0 +4 1970-01-02 00:00 bin\/sh -> tool$/m);
  assert.match(long.stdout, /^crw------- 0\/0 +5, 1 1970-01-02 00:00 dev\/console$/m);
  assert.match(long.stdout, /^drwxrwxrwt 0\/0 +0 1970-01-02 00:00 tmp$/m);

  const json = await runKiln(["rootfs", "ls", "--json", out]);
  assert.equal(json.code, 0, json.stderr);
  const entries = JSON.parse(json.stdout) as {
    path: string;
    type: string;
    mode: string;
    rdevMajor?: number;
    nlink: number;
    inode: number;
  }[];
  assert.deepEqual(
    entries.map((e) => e.path),
    cpioNames.trim().split("\n"),
  );
  const byPath = new Map(entries.map((e) => [e.path, e]));
  assert.deepEqual([byPath.get("dev/console")!.type, byPath.get("dev/console")!.rdevMajor], ["char", 5]);
  assert.equal(byPath.get("tmp")!.mode, "1777");
  assert.equal(byPath.get("etc/multi-2")!.inode, byPath.get("usr/multi-3")!.inode);
  assert.equal(byPath.get("usr/multi-3")!.nlink, 3);

  const missing = await runKiln(["rootfs", "ls", join(dir, "nope.cpio")]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error: cannot read .*nope\.cpio: no such file$/m);
  const notCpio = await runKiln(["rootfs", "ls", spec]);
  assert.equal(notCpio.code, 1);
  assert.match(notCpio.stderr, /error: not a newc CPIO archive: magic "\/dev\/c" at byte 0/);
  assert.doesNotMatch(notCpio.stderr + missing.stderr, /at .*\.ts:\d+/, "no stack trace");
  const usage = await runKiln(["rootfs", "ls"]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /missing FILE/);
});
