/**
 * Image formats told apart by content: images made by the reference tools
 * (mkfs.ext4, mkfs.erofs, GNU cpio, gzip) under names that say nothing.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { imageFormatOf, sniffImageFormat } from "../../src/image/sniff.js";
import { scratchDir } from "../helpers/kiln.js";

test("ext4, EROFS, CPIO and gzip images are recognised by their magic, not their names", async (t) => {
  const dir = scratchDir(t);
  const tree = join(dir, "tree");
  mkdirSync(tree);
  writeFileSync(join(tree, "hello"), "hi\n");
  const ext4 = join(dir, "disk-a.img");
  execFileSync("mkfs.ext4", ["-q", "-F", "-d", tree, ext4, "4M"]);
  const erofs = join(dir, "disk-b.img");
  execFileSync("mkfs.erofs", [erofs, tree], { stdio: "ignore" });
  const cpio = join(dir, "disk-c.img");
  execFileSync("sh", ["-c", `cd "${tree}" && find . | cpio -o -H newc --quiet > "${cpio}"`]);
  const gz = join(dir, "disk-d.img");
  execFileSync("sh", ["-c", `gzip -c "${cpio}" > "${gz}"`]);
  const text = join(dir, "notes.erofs");
  writeFileSync(text, "not an image\n".repeat(200));

  assert.equal(await sniffImageFormat(ext4), "ext4");
  assert.equal(await sniffImageFormat(erofs), "erofs");
  assert.equal(await sniffImageFormat(cpio), "cpio");
  assert.equal(await sniffImageFormat(gz), "gzip");
  // The name says EROFS; the content does not.
  assert.equal(await sniffImageFormat(text), "unknown");
});

test("a head too short for a superblock is unknown, not an out-of-range read", () => {
  assert.equal(imageFormatOf(new Uint8Array(0)), "unknown");
  assert.equal(imageFormatOf(new Uint8Array(1030)), "unknown");
});

test("squashfs, XFS and partitioned disks (GPT, MBR) by their magic", () => {
  const head = (at: number, bytes: string | number[]) => {
    const b = Buffer.alloc(2048);
    (typeof bytes === "string" ? Buffer.from(bytes, "latin1") : Buffer.from(bytes)).copy(b, at);
    return b;
  };
  assert.equal(imageFormatOf(head(0, "hsqs")), "squashfs");
  assert.equal(imageFormatOf(head(0, "XFSB")), "xfs");
  assert.equal(imageFormatOf(head(512, "EFI PART")), "partitioned");
  assert.equal(imageFormatOf(head(510, [0x55, 0xaa])), "partitioned");
  assert.equal(imageFormatOf(head(0, "root:x:0:0:root:/root:/bin/bash\n")), "unknown");
});
