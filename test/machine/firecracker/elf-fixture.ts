/**
 * Tiny real x86 ELF kernels, assembled with gcc for tests: the entry writes 1
 * to QEMU's isa-debug-exit port (QEMU then exits with (1 << 1) | 1 = 3).
 * With `pvh`, the ELF carries Xen's PVH entry note (owner "Xen", type 18,
 * XEN_ELFNOTE_PHYS32_ENTRY) pointing at the 32-bit entry, which QEMU's
 * `-kernel` needs; without it, it is shaped like Unikraft's Firecracker images.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** Assemble `<dir>/<name>` and return its path. */
export function buildTestElf(dir: string, name: string, pvh: boolean): string {
  const src = join(dir, `${name}.S`);
  const out = join(dir, name);
  writeFileSync(
    src,
    [
      ".globl _start",
      ".text",
      ".code32",
      "_start: mov $0xf4, %dx",
      "  mov $1, %al",
      "  out %al, (%dx)",
      "  hlt",
      ...(pvh
        ? [
            '.pushsection .note.Xen, "a", @note',
            ".align 4",
            ".long 4, 4, 18", // namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY
            '.asciz "Xen"',
            ".long _start",
            ".popsection",
          ]
        : []),
      "",
    ].join("\n"),
  );
  const r = spawnSync("gcc", ["-nostdlib", "-static", "-Wl,--build-id=none", "-o", out, src], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, `gcc failed: ${r.stderr}`);
  return out;
}
