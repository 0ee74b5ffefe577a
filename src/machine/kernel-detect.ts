/**
 * What kind of kernel a file is, from its first bytes (pure over a buffer;
 * {@link detectKernel} reads the file). The formats:
 * - Multiboot v1: magic `0x1BADB002` 4-byte aligned in the first 8192 bytes
 *   (Multiboot spec §3.1.1). Unikraft's KVM x86_64 images carry it, and QEMU's
 *   `-kernel` boots them directly on `-M pc`.
 * - Linux x86 boot protocol: `HdrS` at offset 0x202 (Documentation/arch/x86/boot.rst).
 * - arm64 `Image`: magic `ARM\x64` at offset 56 (Documentation/arch/arm64/booting.rst).
 * - any other ELF: a `vmlinux` or a non-x86 Unikraft image.
 */
import { type FileHandle, open, stat } from "node:fs/promises";
import { errnoCode, KilnError } from "../core/errors.js";
import { fileTypeName } from "../core/fs.js";
import type { GuestKind, KernelKind, MachineArch } from "./driver.js";
import { elfSectionNames, hasBootinfo, readImageConfig, unikraftSections } from "./unikraft-image.js";

/** Bytes read from the start of a kernel file for detection. */
export const KERNEL_PROBE_BYTES = 64 * 1024;

export interface KernelInfo {
  kind: KernelKind;
  architecture: MachineArch;
  /** Best guess at what runs inside (Unikraft prints and embeds its name). */
  guest: GuestKind;
}

const MULTIBOOT_MAGIC = 0x1badb002;
const ELF_MACHINE: Record<number, MachineArch> = { 62: "x86_64", 183: "arm64" };

/** Classify a kernel from its leading bytes; undefined if unrecognized. */
export function classifyKernel(head: Buffer): KernelInfo | undefined {
  const unikraft = head.includes("Unikraft") || head.includes("unikraft");
  if (head.length >= 0x206 && head.toString("latin1", 0x202, 0x206) === "HdrS") {
    return { kind: "bzimage", architecture: "x86_64", guest: "linux" };
  }
  if (head.length >= 60 && head.readUInt32LE(56) === 0x644d5241) {
    return { kind: "arm64-image", architecture: "arm64", guest: unikraft ? "unikraft" : "linux" };
  }
  const isElf = head.length >= 20 && head.readUInt32BE(0) === 0x7f454c46;
  for (let off = 0; off + 4 <= Math.min(head.length, 8192); off += 4) {
    if (head.readUInt32LE(off) === MULTIBOOT_MAGIC) {
      // Multiboot kernels Kiln meets are Unikraft images (or stand-ins for one).
      return { kind: "multiboot", architecture: "x86_64", guest: "unikraft" };
    }
  }
  if (isElf) {
    const arch = ELF_MACHINE[head.readUInt16LE(18)];
    if (!arch) return undefined;
    return { kind: "elf", architecture: arch, guest: unikraft ? "unikraft" : "linux" };
  }
  return undefined;
}

/**
 * Read and classify a kernel file; throws `KERNEL_INVALID` or `KERNEL_NOT_FOUND`.
 * An ELF or arm64 Image is a Unikraft guest when its structure or its build's
 * configuration says so (`unikraft-image.ts`), wherever its name appears in
 * it: real arm64 images have `Unikraft` only past byte 126,160. `config` is
 * a configuration known to belong to it (a project's `.config.<target>`).
 */
export async function detectKernel(path: string, opts: { config?: string } = {}): Promise<KernelInfo> {
  let info: KernelInfo | undefined;
  const st = await stat(path).catch(() => undefined);
  if (st && !st.isFile() && !st.isDirectory()) {
    // Opening a FIFO blocks until a writer comes, deaf to signals (issue 9): refuse before opening.
    throw new KilnError("KERNEL_INVALID", `kernel ${path} is ${fileTypeName(st)}, not a kernel file`, {
      hint: "give the kernel image file itself",
    });
  }
  try {
    const fh = await open(path, "r");
    try {
      const buf = Buffer.alloc(KERNEL_PROBE_BYTES);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      info = classifyKernel(buf.subarray(0, bytesRead));
      if (info && info.guest === "linux" && (await unikraftByStructure(fh, info.kind))) {
        info = { ...info, guest: "unikraft" };
      }
    } finally {
      await fh.close();
    }
  } catch (e) {
    const code = errnoCode(e);
    throw new KilnError(
      "KERNEL_NOT_FOUND",
      code === "ENOENT" ? `kernel ${path} does not exist` : `cannot read kernel ${path}: ${code ?? e}`,
      {
        cause: e,
        hint: code === "EISDIR" ? "give a kernel file, or a project directory with a Kraftfile" : undefined,
      },
    );
  }
  if (!info) {
    throw new KilnError(
      "KERNEL_INVALID",
      `${path} is not a kernel Kiln can boot (no Multiboot header, Linux boot header, arm64 Image magic or ELF header in its first bytes)`,
      { hint: "give a Unikraft image (…_qemu-x86_64), a Linux bzImage/vmlinuz, a vmlinux or an arm64 Image" },
    );
  }
  if (info.guest === "linux" && (info.kind === "elf" || info.kind === "arm64-image")) {
    if (await readImageConfig(path, opts.config)) info = { ...info, guest: "unikraft" };
  }
  return info;
}

/** Largest raw image scanned whole for Unikraft's boot information (Linux arm64 Images are ~40 MiB). */
const MAX_SCAN_BYTES = 256 * 1024 * 1024;

async function unikraftByStructure(fh: FileHandle, kind: KernelKind): Promise<boolean> {
  const read = async (offset: number, length: number) => {
    const b = Buffer.alloc(length);
    const { bytesRead } = await fh.read(b, 0, length, offset);
    return b.subarray(0, bytesRead);
  };
  if (kind === "elf") {
    const names = await elfSectionNames(read);
    return names !== undefined && unikraftSections(names) !== undefined;
  }
  if (kind === "arm64-image") {
    const { size } = await fh.stat();
    return size <= MAX_SCAN_BYTES && hasBootinfo(await read(0, size));
  }
  return false;
}
