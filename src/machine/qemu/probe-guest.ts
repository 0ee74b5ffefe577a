// biome-ignore-all format: machine code is laid out one instruction a line
/**
 * The acceleration probe's guests, written byte by byte (no toolchain at run
 * time). Each proves that the accelerator runs real guest code, not just that
 * QEMU can create a vCPU: a host whose `/dev/kvm` is served by `kvm_pvm` (a
 * PVM host, itself a microVM) creates and resets vCPUs happily, runs real-mode
 * firmware, and then hangs for ever when an ordinary guest switches to
 * protected and long mode (issue 8).
 *
 * x86_64: a Multiboot (v1) image with the a.out kludge, loaded at 1 MiB by
 * QEMU's own Multiboot loader (`-kernel`; QEMU rejects 64-bit ELF for
 * Multiboot, and a flat image needs no ELF at all). It starts in 32-bit
 * protected mode without paging (Multiboot spec §3.2), turns on PAE, loads
 * identity-mapping page tables, sets EFER.LME, turns on paging, far-jumps into
 * a 64-bit code segment, checks EFER.LMA, and only then writes
 * copies {@link PROBE_COPY_BYTES} byte by byte (work a real guest does at
 * once: a kernel's decompressor), and only then writes {@link PROBE_MARKER} to
 * COM1 and the "passed" code to `isa-debug-exit`. The image asks for 32 MiB.
 *
 * arm64: a Linux arm64 `Image` (QEMU's `-kernel` boots it at EL1 with the MMU
 * off, Documentation/arm64/booting.rst): it writes the marker to the PL011 of
 * `-M virt` and powers off through PSCI `SYSTEM_OFF` over HVC (the conduit of
 * `-M virt` without EL2/EL3, under KVM and TCG alike).
 */

/** What the probe guests print once their code runs in 64-bit mode. */
export const PROBE_MARKER = "KILN-PROBE-OK";

/** The value the x86_64 guest writes to `isa-debug-exit` on success: QEMU exits with (v << 1) | 1 = 33. */
export const PROBE_X86_PASS = 0x10;
/** Written when the guest ran but long mode was not active (EFER.LMA clear): QEMU exits with 35. */
export const PROBE_X86_NOLM = 0x11;
/** The I/O port of the probe's `isa-debug-exit` device. */
export const PROBE_DEBUG_EXIT_PORT = 0xf4;

const LOAD = 0x100000; // where the image is loaded (1 MiB, Multiboot's usual)
const PML4 = 0x1000; // offsets of the page tables in the image (4 KiB aligned)
const PDPT = 0x2000;
const PD = 0x3000;
const CODE = 0x40; // offset of the 32-bit entry point
const GDT = 0x20; // offset of the GDT (3 descriptors) and its pointer

function u32(buf: Buffer, off: number, v: number): void {
  buf.writeUInt32LE(v >>> 0, off);
}

/** Bytes that write `text` to the 16550 UART at 0x3f8, in 64-bit mode (mov dx, 0x3f8; mov al, c; out dx, al …). */
function x86SerialWrite(text: string): number[] {
  const out = [0x66, 0xba, 0xf8, 0x03];
  for (const c of Buffer.from(text)) out.push(0xb0, c, 0xee);
  return out;
}

/** Bytes that write `code` to the isa-debug-exit port and then halt for ever (64-bit mode). */
function x86DebugExit(code: number): number[] {
  return [0x66, 0xba, PROBE_DEBUG_EXIT_PORT & 0xff, PROBE_DEBUG_EXIT_PORT >> 8, 0xb0, code, 0xee, 0xf4, 0xeb, 0xfd];
}

/** The x86_64 probe guest: a Multiboot image (see the module comment). Pure. */
export function x86ProbeGuest(): Buffer {
  const img = Buffer.alloc(PD + 0x1000);
  // Multiboot header at offset 0: magic, flags (bit 16: the address fields below are valid), checksum.
  const MAGIC = 0x1badb002;
  const FLAGS = 0x00010000;
  u32(img, 0, MAGIC);
  u32(img, 4, FLAGS);
  u32(img, 8, -(MAGIC + FLAGS));
  u32(img, 12, LOAD); // header_addr
  u32(img, 16, LOAD); // load_addr
  u32(img, 20, 0); // load_end_addr: 0 = the whole file
  u32(img, 24, 0); // bss_end_addr: none
  u32(img, 28, LOAD + CODE); // entry_addr

  // GDT: null, 64-bit code (selector 0x08: L=1, P=1, DPL 0, execute/read), data (0x10).
  Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]).copy(img, GDT);
  Buffer.from([0xff, 0xff, 0, 0, 0, 0x9a, 0xaf, 0]).copy(img, GDT + 8);
  Buffer.from([0xff, 0xff, 0, 0, 0, 0x92, 0xcf, 0]).copy(img, GDT + 16);
  const GDTR = GDT + 24; // limit (16 bits), base (32 bits)
  img.writeUInt16LE(3 * 8 - 1, GDTR);
  u32(img, GDTR + 2, LOAD + GDT);

  // Page tables: PML4[0] → PDPT, PDPT[0] → PD, PD[0] = a 2 MiB page at 0 (present, writable, PS).
  u32(img, PML4, (LOAD + PDPT) | 0x3);
  u32(img, PDPT, (LOAD + PD) | 0x3);
  for (let i = 0; i < 512; i++) u32(img, PD + i * 8, (i * 0x200000) | 0x83);

  const code32 = [
    0xfa, // cli
    0x0f, 0x20, 0xe0, // mov eax, cr4
    0x0d, 0x20, 0x00, 0x00, 0x00, // or eax, CR4.PAE
    0x0f, 0x22, 0xe0, // mov cr4, eax
    0xb8, ...le32(LOAD + PML4), // mov eax, PML4
    0x0f, 0x22, 0xd8, // mov cr3, eax
    0xb9, 0x80, 0x00, 0x00, 0xc0, // mov ecx, IA32_EFER
    0x0f, 0x32, // rdmsr
    0x0d, 0x00, 0x01, 0x00, 0x00, // or eax, EFER.LME
    0x0f, 0x30, // wrmsr
    0x0f, 0x01, 0x15, ...le32(LOAD + GDTR), // lgdt [GDTR]
    0x0f, 0x20, 0xc0, // mov eax, cr0
    0x0d, 0x01, 0x00, 0x00, 0x80, // or eax, CR0.PG | CR0.PE
    0x0f, 0x22, 0xc0, // mov cr0, eax
  ];
  const farJumpLen = 7; // jmp 0x08:long64 (EA ptr32 sel16)
  const long64 = CODE + code32.length + farJumpLen;
  code32.push(0xea, ...le32(LOAD + long64), 0x08, 0x00);

  const fail = [...x86SerialWrite("KILN-PROBE-NO-LONG-MODE\n"), ...x86DebugExit(PROBE_X86_NOLM)];
  const pass = [...x86SerialWrite(`${PROBE_MARKER}\n`), ...x86DebugExit(PROBE_X86_PASS)];
  const code64 = [
    0x66, 0xb8, 0x10, 0x00, // mov ax, 0x10
    0x8e, 0xd8, // mov ds, ax
    0xb9, 0x80, 0x00, 0x00, 0xc0, // mov ecx, IA32_EFER
    0x0f, 0x32, // rdmsr
    0xa9, 0x00, 0x04, 0x00, 0x00, // test eax, EFER.LMA
    0x75, fail.length, // jnz pass (skip the failure path)
    ...fail,
    ...copyLoop(),
    ...pass,
  ];
  const all = [...code32, ...code64];
  if (CODE + all.length > PML4) throw new Error("probe guest code overlaps its page tables");
  Buffer.from(all).copy(img, CODE);
  return img;
}

/**
 * How much the x86_64 guest copies, byte by byte with paging on, before it
 * reports. Measured (issue 8): on a PVM host this loop runs about 150,000
 * iterations a second under KVM (Debian's kernel "hangs" in its decompressor
 * for exactly this reason: it runs, but thousands of times too slowly), so
 * 4 MiB take about 27 s there; TCG takes about 0.2 s, a working KVM a few
 * milliseconds. A KVM slower than TCG is no acceleration.
 */
export const PROBE_COPY_BYTES = 4 << 20;

/** Copy {@link PROBE_COPY_BYTES} byte by byte from 2 MiB to 10 MiB, as a kernel's decompressor does. */
function copyLoop(): number[] {
  return [
    0x48, 0xc7, 0xc6, ...le32(0x200000), // mov rsi, 2 MiB
    0x48, 0xc7, 0xc7, ...le32(0xa00000), // mov rdi, 10 MiB
    0x48, 0xc7, 0xc1, ...le32(PROBE_COPY_BYTES), // mov rcx, PROBE_COPY_BYTES
    0x8a, 0x06, // loop: mov al, [rsi]
    0x88, 0x07, // mov [rdi], al
    0x48, 0xff, 0xc6, // inc rsi
    0x48, 0xff, 0xc7, // inc rdi
    0x48, 0xff, 0xc9, // dec rcx
    0x75, 0xf1, // jnz loop
  ];
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** The PSCI function id of SYSTEM_OFF (SMC32 calling convention). */
const PSCI_SYSTEM_OFF = 0x84000008;
/** `-M virt`'s PL011 UART data register. */
const VIRT_PL011 = 0x09000000;

/** An A64 `movz/movk` pair loading a 32-bit constant into register `rd`. */
function a64Mov32(rd: number, v: number): number[] {
  const movz = 0xd2800000 | ((v & 0xffff) << 5) | rd; // movz xd, #lo
  const movk = 0xf2a00000 | (((v >>> 16) & 0xffff) << 5) | rd; // movk xd, #hi, lsl 16
  return [movz >>> 0, movk >>> 0];
}

/** The arm64 probe guest: a Linux arm64 Image (see the module comment). Pure. */
export function arm64ProbeGuest(): Buffer {
  const words: number[] = [...a64Mov32(1, VIRT_PL011)];
  for (const c of Buffer.from(`${PROBE_MARKER}\n`)) {
    words.push(0xd2800000 | (c << 5) | 2); // movz x2, #c
    words.push(0x39000022); // strb w2, [x1]
  }
  words.push(...a64Mov32(0, PSCI_SYSTEM_OFF));
  words.push(0xd4000002); // hvc #0
  words.push(0x14000000); // b . (should SYSTEM_OFF return)
  const HEADER = 64;
  const img = Buffer.alloc(HEADER + words.length * 4);
  // Image header (Documentation/arm64/booting.rst): code0 = branch to the code after the header.
  u32(img, 0, 0x14000000 | (HEADER / 4)); // b #64
  u32(img, 4, 0); // code1
  img.writeBigUInt64LE(0n, 8); // text_offset
  img.writeBigUInt64LE(BigInt(img.length), 16); // image_size
  img.writeBigUInt64LE(0n, 24); // flags: little endian
  u32(img, 56, 0x644d5241); // magic "ARM\x64"
  words.forEach((w, i) => {
    u32(img, HEADER + i * 4, w);
  });
  return img;
}
