import assert from "node:assert/strict";
import { PassThrough, Readable } from "node:stream";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { isKilnError } from "../../core/errors.js";
import { readCpio } from "./reader.js";
import type { CpioEntry } from "./types.js";
import { writeCpio } from "./writer.js";

async function archive(entries: CpioEntry[]): Promise<Buffer> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on("data", (c: Buffer) => parts.push(c));
  await writeCpio(entries, out, { end: true, chunkBytes: 4096 });
  return Buffer.concat(parts);
}

const content = Buffer.from(Array.from({ length: 10_001 }, (_, i) => (i * 7) & 0xff));
const ENTRIES: CpioEntry[] = [
  { path: "bin", type: "dir", mode: 0o755, uid: 0, gid: 0, mtimeSec: 100 },
  {
    path: "bin/app",
    type: "file",
    mode: 0o4755,
    uid: 0,
    gid: 0,
    mtimeSec: 200,
    sizeBytes: content.length,
    open: () => Readable.from([content.subarray(0, 3), content.subarray(3)]),
  },
  { path: "bin/sh", type: "symlink", mode: 0o777, uid: 0, gid: 0, mtimeSec: 300, linkTarget: "app" },
  { path: "dev", type: "dir", mode: 0o755, uid: 0, gid: 0, mtimeSec: 0 },
  { path: "dev/console", type: "char", mode: 0o600, uid: 0, gid: 5, mtimeSec: 0, rdevMajor: 5, rdevMinor: 1 },
  {
    path: "a",
    type: "file",
    mode: 0o644,
    uid: 1,
    gid: 2,
    mtimeSec: 5,
    sizeBytes: 2,
    hardlinkKey: "k",
    open: () => Readable.from([Buffer.from("hi")]),
  },
  {
    path: "b",
    type: "file",
    mode: 0o644,
    uid: 1,
    gid: 2,
    mtimeSec: 5,
    sizeBytes: 2,
    hardlinkKey: "k",
    open: () => Readable.from([Buffer.from("hi")]),
  },
];

async function readAll(input: Buffer) {
  const out = [];
  for await (const e of readCpio(Readable.from([input.subarray(0, 77), input.subarray(77)]))) {
    let data: Buffer | undefined;
    if (e.open) {
      const parts: Buffer[] = [];
      for await (const p of e.open() as AsyncIterable<Buffer>) parts.push(p);
      data = Buffer.concat(parts);
    }
    out.push({ e, data });
  }
  return out;
}

test("the reader round-trips the writer's output, plain and gzip", async () => {
  const bytes = await archive(ENTRIES);
  assert.equal(bytes.length % 512, 0, "padded to 512 bytes like gen_init_cpio");
  for (const input of [bytes, gzipSync(bytes)]) {
    const got = await readAll(input);
    assert.deepEqual(
      got.map(({ e }) => [
        e.path,
        e.type,
        e.mode,
        e.uid,
        e.gid,
        e.mtimeSec,
        e.linkTarget,
        e.rdevMajor,
        e.rdevMinor,
      ]),
      ENTRIES.map((e) => [
        e.path,
        e.type,
        e.mode,
        e.uid,
        e.gid,
        e.mtimeSec,
        e.linkTarget,
        e.rdevMajor,
        e.rdevMinor,
      ]),
    );
    assert.ok(got[1]!.data!.equals(content));
    // Hard links: one inode, nlink 2, data with the first link only.
    const [a, b] = [got[5]!, got[6]!];
    assert.equal(a.e.inode, b.e.inode);
    assert.deepEqual([a.e.nlink, b.e.nlink, a.data?.toString(), b.e.sizeBytes], [2, 2, "hi", 0]);
    assert.equal(new Set(got.map(({ e }) => e.inode)).size, got.length - 1, "other inodes are distinct");
  }
});

test("unread content is skipped; reading it late is an error", async () => {
  const bytes = await archive(ENTRIES);
  const kept: CpioEntry[] = [];
  for await (const e of readCpio(Readable.from([bytes]))) kept.push(e);
  assert.equal(kept.length, ENTRIES.length);
  assert.throws(
    () => kept[1]!.open!(),
    (e) => isKilnError(e, "CPIO_READ_ORDER"),
  );
});

test("not newc, truncated or empty input are clear errors", async () => {
  const bytes = await archive(ENTRIES);
  const drain = async (b: Buffer) => {
    for await (const _ of readCpio(Readable.from([b]))) {
      // only the error matters
    }
  };
  await assert.rejects(drain(Buffer.from("070707" + "0".repeat(200))), (e) => {
    assert.ok(isKilnError(e, "CPIO_BAD_MAGIC"));
    assert.match(e.message, /magic "070707" at byte 0/);
    assert.match(e.hint!, /odc/);
    return true;
  });
  await assert.rejects(
    drain(bytes.subarray(0, 300)),
    (e) => isKilnError(e, "CPIO_TRUNCATED") && /at byte \d+/.test(e.message),
  );
  await assert.rejects(drain(Buffer.alloc(0)), (e) => isKilnError(e, "CPIO_CORRUPT"));
  // Shorter than one header: still judged by its magic.
  await assert.rejects(drain(Buffer.from("root:x:0:0\n")), (e) => isKilnError(e, "CPIO_BAD_MAGIC"));
  await assert.rejects(drain(Buffer.from("0707010000")), (e) => isKilnError(e, "CPIO_TRUNCATED"));
  await assert.rejects(
    drain(gzipSync(bytes).subarray(0, 100)),
    (e) => isKilnError(e, "CPIO_CORRUPT") || isKilnError(e, "CPIO_TRUNCATED"),
  );
});

test("concatenated archives are read as one, as Linux's initramfs unpacker does", async () => {
  const one = await archive(ENTRIES.slice(0, 1));
  const two = await archive(ENTRIES.slice(3, 5));
  const got = await readAll(Buffer.concat([one, two]));
  assert.deepEqual(
    got.map(({ e }) => e.path),
    ["bin", "dev", "dev/console"],
  );
});
