import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { crc32cRaw, stampExt4Times } from "./ext4-times.js";

const EPOCH = 1_700_000_000;

test("crc32c: the standard check value of '123456789'", () => {
  const raw = crc32cRaw(0xffffffff, new TextEncoder().encode("123456789"));
  assert.equal((raw ^ 0xffffffff) >>> 0, 0xe3069283);
});

const debugfs = (image: string, req: string): string =>
  execFileSync("debugfs", ["-R", req, image], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });

test("stampExt4Times: the same inodes debugfs' sif would write, checksums e2fsck accepts", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-ext4-times-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, "root");
  mkdirSync(join(root, "etc/deep"), { recursive: true });
  writeFileSync(join(root, "etc/new"), "after the epoch\n");
  writeFileSync(join(root, "etc/old"), "before the epoch\n");
  utimesSync(join(root, "etc/old"), 1_000_000_000, 1_000_000_000);
  writeFileSync(join(root, "etc/deep/big"), Buffer.alloc(300_000, 7));
  symlinkSync("/etc/new", join(root, "etc/link"));
  // Many files so that more than one inode-table block is rewritten.
  for (let i = 0; i < 300; i++) writeFileSync(join(root, `etc/deep/f${i}`), `${i}\n`);
  const a = join(dir, "a.ext4");
  const env = { ...process.env, E2FSPROGS_FAKE_TIME: String(EPOCH) };
  execFileSync("mkfs.ext4", ["-q", "-F", "-U", "0f1e2d3c-4b5a-4697-8877-665544332211", "-d", root, a, "8M"], {
    env,
  });
  const b = join(dir, "b.ext4");
  copyFileSync(a, b);

  const r = stampExt4Times(a, EPOCH);
  // The reference: debugfs' set_inode_field on every path, as Kiln did before.
  const paths = [
    "/",
    "/lost+found",
    "/etc",
    "/etc/new",
    "/etc/old",
    "/etc/link",
    "/etc/deep",
    "/etc/deep/big",
  ];
  for (let i = 0; i < 300; i++) paths.push(`/etc/deep/f${i}`);
  const cmds: string[] = [];
  for (const p of paths) {
    cmds.push(`sif "${p}" atime @${EPOCH}`, `sif "${p}" ctime @${EPOCH}`);
    const mtime = Number(/mtime: (0x[0-9a-f]+)/.exec(debugfs(b, `stat "${p}"`))?.[1]);
    if (mtime > EPOCH) cmds.push(`sif "${p}" mtime @${EPOCH}`);
  }
  writeFileSync(join(dir, "cmds"), `${cmds.join("\n")}\n`);
  execFileSync("debugfs", ["-w", "-f", join(dir, "cmds"), b], { env, stdio: "ignore" });

  return r.then((res) => {
    assert.equal(res.inodes, paths.length, "every inode of the tree, the root and lost+found");
    const fsck = spawnSync("e2fsck", ["-fn", a], { encoding: "utf8" });
    assert.equal(fsck.status, 0, `e2fsck -fn:\n${fsck.stdout}${fsck.stderr}`);
    for (const p of paths) {
      // debugfs prints every field and the inode's checksum: equal output means equal inode bytes.
      const mine = debugfs(a, `stat "${p}"`);
      assert.equal(mine, debugfs(b, `stat "${p}"`), `${p} differs from debugfs' result`);
      assert.match(mine, new RegExp(`ctime: 0x${EPOCH.toString(16)}:`), p);
    }
    assert.match(debugfs(a, 'stat "/etc/old"'), /mtime: 0x3b9aca00:/, "an mtime before the epoch is kept");
    assert.match(debugfs(a, 'stat "/etc/new"'), new RegExp(`mtime: 0x${EPOCH.toString(16)}:`));
  });
});

test("stampExt4Times refuses a file that is not ext4", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-ext4-times-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, "x.img");
  writeFileSync(f, Buffer.alloc(4096));
  await assert.rejects(stampExt4Times(f, EPOCH), /not an ext4 image/);
});
