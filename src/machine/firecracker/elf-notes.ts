/**
 * Can QEMU's `-kernel` load this ELF? QEMU's x86 loader (hw/i386/x86.c,
 * `x86_load_linux`) accepts a Multiboot image, a Linux boot-protocol image,
 * or an ELF carrying the Xen PVH entry note (`XEN_ELFNOTE_PHYS32_ENTRY`,
 * type 18, owner "Xen", found through the PT_NOTE program headers). Anything
 * else fails with an obscure "linux kernel too old" or "Error loading
 * uncompressed kernel without PVH ELF Note". Unikraft's Firecracker (`fc`)
 * images are such ELFs: Firecracker jumps to the ELF entry itself, so they
 * carry neither a Multiboot header nor the PVH note. Kiln says so up front.
 */
import { open } from "node:fs/promises";
import { KilnError } from "../../core/errors.js";

/** `XEN_ELFNOTE_PHYS32_ENTRY` (xen/include/public/elfnote.h). */
export const XEN_ELFNOTE_PHYS32_ENTRY = 18;
const PT_NOTE = 4;

interface NoteSegment {
  offset: number;
  size: number;
}

/** The PT_NOTE segments of an ELF, from its header and program headers. */
export function elfNoteSegments(head: Buffer): NoteSegment[] | undefined {
  if (head.length < 52 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = head[4] === 2;
  const le = head[5] === 1;
  const u16 = (o: number) => (le ? head.readUInt16LE(o) : head.readUInt16BE(o));
  const u32 = (o: number) => (le ? head.readUInt32LE(o) : head.readUInt32BE(o));
  const u64 = (o: number) => Number(le ? head.readBigUInt64LE(o) : head.readBigUInt64BE(o));
  const phoff = is64 ? u64(0x20) : u32(0x1c);
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  const out: NoteSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + phentsize > head.length) return undefined; // headers beyond what was read
    if (u32(ph) !== PT_NOTE) continue;
    out.push(
      is64 ? { offset: u64(ph + 8), size: u64(ph + 0x20) } : { offset: u32(ph + 4), size: u32(ph + 16) },
    );
  }
  return out;
}

/** Whether a note area (`namesz, descsz, type, name, desc`, 4-byte aligned) has Xen's PVH entry note. */
export function notesHavePvhEntry(notes: Buffer, littleEndian = true): boolean {
  const u32 = (o: number) => (littleEndian ? notes.readUInt32LE(o) : notes.readUInt32BE(o));
  const align = (n: number) => (n + 3) & ~3;
  let off = 0;
  while (off + 12 <= notes.length) {
    const namesz = u32(off);
    const descsz = u32(off + 4);
    const type = u32(off + 8);
    const name = notes.toString("latin1", off + 12, off + 12 + namesz).replace(/\0+$/, "");
    if (name === "Xen" && type === XEN_ELFNOTE_PHYS32_ENTRY) return true;
    off += 12 + align(namesz) + align(descsz);
  }
  return false;
}

/** Whether the ELF file at `path` carries the PVH entry note. Undefined when it is not an ELF. */
export async function elfHasPvhNote(path: string): Promise<boolean | undefined> {
  const fh = await open(path, "r");
  try {
    const head = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const segments = elfNoteSegments(head.subarray(0, bytesRead));
    if (!segments) return undefined;
    const le = head[5] === 1;
    for (const seg of segments) {
      const buf = Buffer.alloc(Math.min(seg.size, 1 << 20));
      const r = await fh.read(buf, 0, buf.length, seg.offset);
      if (notesHavePvhEntry(buf.subarray(0, r.bytesRead), le)) return true;
    }
    return false;
  } finally {
    await fh.close();
  }
}

/**
 * Throw `KERNEL_NOT_QEMU_BOOTABLE` when `path` is an x86_64 ELF (neither
 * Multiboot nor bzImage: the caller's kernel detection says `elf`) without the
 * PVH note, naming what to do instead.
 */
export async function assertQemuCanLoadElf(path: string): Promise<void> {
  const pvh = await elfHasPvhNote(path);
  if (pvh !== false) return;
  throw new KilnError(
    "KERNEL_NOT_QEMU_BOOTABLE",
    `${path} is an ELF kernel with neither a Multiboot header nor the PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY), so QEMU's -kernel cannot load it`,
    {
      hint: "Unikraft's Firecracker (fc) images are built this way: build the target for platform qemu, or run it with --vmm firecracker; a Linux vmlinux needs CONFIG_PVH=y",
    },
  );
}
