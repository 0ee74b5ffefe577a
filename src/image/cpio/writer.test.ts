import assert from "node:assert/strict";
import { PassThrough, Readable } from "node:stream";
import { test } from "node:test";
import { isKilnError } from "../../core/errors.js";
import type { CpioEntry } from "./types.js";
import { writeCpio } from "./writer.js";

async function bytesOf(entries: CpioEntry[]): Promise<Buffer> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on("data", (c: Buffer) => parts.push(c));
  await writeCpio(entries, out, { end: true });
  return Buffer.concat(parts);
}

test("a newc header: magic, 13 hex fields, NUL-terminated name padded to 4, data padded to 4", async () => {
  const b = await bytesOf([
    {
      path: "hello",
      type: "file",
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtimeSec: 0x5f5e1000,
      sizeBytes: 3,
      open: () => Readable.from([Buffer.from("hi\n")]),
    },
  ]);
  const h = b.toString("latin1", 0, 110);
  assert.equal(h.slice(0, 6), "070701");
  const field = (i: number) => Number.parseInt(h.slice(6 + i * 8, 14 + i * 8), 16);
  assert.equal(field(1), 0o100644, "mode = S_IFREG | 0644");
  assert.equal(field(4), 1, "nlink");
  assert.equal(field(5), 0x5f5e1000, "mtime");
  assert.equal(field(6), 3, "filesize");
  assert.equal(field(11), 6, "namesize counts the NUL");
  // 110 + 6 = 116, already a multiple of 4; data follows at 116, padded to 120.
  assert.equal(b.toString("latin1", 110, 116), "hello\0");
  assert.equal(b.toString("latin1", 116, 119), "hi\n");
  assert.equal(b[119], 0);
  assert.equal(b.toString("latin1", 120, 126), "070701");
  assert.equal(b.indexOf("TRAILER!!!\0"), 120 + 110);
});

const base = { mode: 0o644, uid: 0, gid: 0, mtimeSec: 0 };

test("an entry of 4 GiB or more is CPIO_ENTRY_TOO_LARGE, checked before any data is needed", async () => {
  await assert.rejects(bytesOf([{ ...base, path: "disk.img", type: "file", sizeBytes: 2 ** 32 }]), (e) => {
    assert.ok(isKilnError(e, "CPIO_ENTRY_TOO_LARGE"));
    assert.equal(e.message, "disk.img: size 4294967296 exceeds the newc limit of 4294967295 (4 GiB - 1)");
    return true;
  });
});

test("paths that leave the root, bad sizes and missing content are errors naming the entry", async () => {
  for (const path of ["/etc/passwd", "../x", "a/../../b", "./a", "a//b", ""]) {
    await assert.rejects(
      bytesOf([{ ...base, path, type: "dir" }]),
      (e) => isKilnError(e, "CPIO_BAD_PATH"),
      path,
    );
  }
  await assert.rejects(
    bytesOf([
      { ...base, path: "f", type: "file", sizeBytes: 5, open: () => Readable.from([Buffer.from("abc")]) },
    ]),
    (e) => isKilnError(e, "CPIO_SIZE_MISMATCH") && e.message.startsWith("f:"),
  );
  await assert.rejects(
    bytesOf([{ ...base, path: "f", type: "file", sizeBytes: 5 }]),
    (e) => isKilnError(e, "CPIO_BAD_ENTRY") && /has no content/.test(e.message),
  );
  await assert.rejects(bytesOf([{ ...base, path: "l", type: "symlink" }]), (e) =>
    isKilnError(e, "CPIO_BAD_ENTRY"),
  );
  await assert.rejects(bytesOf([{ ...base, path: "u", type: "dir", uid: -1 }]), (e) =>
    isKilnError(e, "CPIO_BAD_ENTRY"),
  );
  await assert.rejects(
    bytesOf([{ ...base, path: "gone", type: "file", sizeBytes: 1, sourcePath: "/nonexistent/kiln" }]),
    (e) => isKilnError(e, "CPIO_READ_FAILED") && /ENOENT/.test(e.message),
  );
});

test("an aborted signal stops writing", async () => {
  const ac = new AbortController();
  ac.abort();
  const out = new PassThrough();
  out.resume();
  await assert.rejects(writeCpio([{ ...base, path: "a", type: "dir" }], out, { signal: ac.signal }), (e) =>
    isKilnError(e, "CPIO_ABORTED"),
  );
});
