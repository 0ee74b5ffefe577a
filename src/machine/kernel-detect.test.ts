import assert from "node:assert/strict";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { scratchDir } from "../../test/helpers/kiln.js";
import { isKilnError } from "../core/errors.js";
import { classifyKernel, detectKernel } from "./kernel-detect.js";

test("Multiboot magic (4-aligned, first 8 KiB) means a Unikraft-style x86_64 image", () => {
  const b = Buffer.alloc(4096);
  b.writeUInt32BE(0x7f454c46, 0);
  b.writeUInt32LE(0x1badb002, 1024);
  assert.deepEqual(classifyKernel(b), { kind: "multiboot", architecture: "x86_64", guest: "unikraft" });
});

test("arm64 Image magic and ELF machine types", () => {
  const img = Buffer.alloc(64);
  img.write("ARM\x64", 56, "latin1");
  assert.equal(classifyKernel(img)?.kind, "arm64-image");
  const elf = Buffer.alloc(64);
  elf.writeUInt32BE(0x7f454c46, 0);
  elf.writeUInt16LE(183, 18);
  assert.deepEqual(classifyKernel(elf), { kind: "elf", architecture: "arm64", guest: "linux" });
});

test("the host's Debian kernel is a bzImage", async (t) => {
  const k = existsSync("/boot") ? readdirSync("/boot").find((f) => f.startsWith("vmlinuz-")) : undefined;
  if (!k) return t.skip("no /boot/vmlinuz-* on this machine");
  assert.deepEqual(await detectKernel(join("/boot", k)), {
    kind: "bzimage",
    architecture: "x86_64",
    guest: "linux",
  });
});

test("a non-kernel file is refused with the rule and the path", async (t) => {
  const f = join(scratchDir(t), "notes.txt");
  writeFileSync(f, "just text\n");
  await assert.rejects(detectKernel(f), (e) => isKilnError(e, "KERNEL_INVALID") && e.message.includes(f));
  await assert.rejects(detectKernel(`${f}.missing`), (e) => isKilnError(e, "KERNEL_NOT_FOUND"));
});
