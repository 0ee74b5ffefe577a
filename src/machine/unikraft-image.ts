/**
 * What a Unikraft image is, from its structure and its build's configuration
 * rather than from text it happens to print.
 *
 * Structure every Unikraft KVM image has:
 * - ELF images (x86_64 Firecracker, arm64 without the Linux header, every
 *   `.dbg`): sections named `.uk_*` (`.uk_inittab`, `.uk_ctortab`, since
 *   0.14 `.uk_bootinfo`). `strip -s` keeps section headers, so stripped
 *   images have them too.
 * - Raw images (arm64's Linux boot protocol, plat/kvm/Linker.uk
 *   `LINUX_HDR_ARM64`: `objcopy -O binary` then support/scripts/mklinux.py
 *   prepends Linux's 64-byte header): no sections, but the boot information
 *   mkbootinfo.py writes into `.uk_bootinfo` (Unikraft ≥ 0.14) is loaded data:
 *   `UKPLAT_BOOTINFO_MAGIC` 0xb007b0b0, version 1, three pad bytes, then the
 *   boot loader and protocol names and four addresses, all zero in the file
 *   (plat/common/include/uk/plat/common/bootinfo.h).
 * - The build's `.config` beside the image (`CONFIG_UK_ARCH`, `CONFIG_UK_NAME`
 *   only exist in Unikraft's Kconfig tree), where `kiln build` or `make`
 *   leaves it.
 */
import { readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Section name prefix of Unikraft's linker tables (`.uk_inittab`, `.uk_bootinfo`, …). */
const UK_SECTION_PREFIX = ".uk_";

/** `struct ukplat_bootinfo` as mkbootinfo.py writes it (little endian): magic, version, pad, 64 zero bytes. */
const BOOTINFO_PATTERN = Buffer.concat([
  Buffer.from([0xb0, 0xb0, 0x07, 0xb0, 0x01, 0, 0, 0]),
  Buffer.alloc(16 + 16 + 8 * 4),
]);

/**
 * The section names of a 64-bit little-endian ELF file, or undefined when
 * the buffer is no such ELF or its section table lies outside the buffer.
 * `read(offset, length)` returns the bytes there (a file or a buffer).
 */
export async function elfSectionNames(
  read: (offset: number, length: number) => Promise<Buffer>,
): Promise<string[] | undefined> {
  const h = await read(0, 64);
  // ELF magic, ELFCLASS64 (2), ELFDATA2LSB (1).
  if (h.length < 64 || h.readUInt32BE(0) !== 0x7f454c46 || h[4] !== 2 || h[5] !== 1) return undefined;
  const shoff = Number(h.readBigUInt64LE(0x28));
  const shentsize = h.readUInt16LE(0x3a);
  const shnum = h.readUInt16LE(0x3c);
  const shstrndx = h.readUInt16LE(0x3e);
  if (shoff === 0 || shnum === 0 || shentsize < 64 || shstrndx >= shnum) return undefined;
  const table = await read(shoff, shentsize * shnum);
  if (table.length < shentsize * shnum) return undefined;
  const strHdr = shstrndx * shentsize;
  const strOff = Number(table.readBigUInt64LE(strHdr + 0x18));
  const strSize = Number(table.readBigUInt64LE(strHdr + 0x20));
  if (strSize > 16 * 1024 * 1024) return undefined;
  const strtab = await read(strOff, strSize);
  const names: string[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = table.readUInt32LE(i * shentsize);
    if (at >= strtab.length) continue;
    const end = strtab.indexOf(0, at);
    names.push(strtab.toString("latin1", at, end < 0 ? strtab.length : end));
  }
  return names;
}

/** Why section names show a Unikraft image (its `.uk_*` linker tables), or undefined. */
export function unikraftSections(names: readonly string[]): string | undefined {
  const uk = names.filter((n) => n.startsWith(UK_SECTION_PREFIX));
  return uk.length > 0 ? `its ELF sections ${uk.slice(0, 3).join(", ")}` : undefined;
}

/** Whether a raw image holds Unikraft's boot information block (see the module comment). */
export function hasBootinfo(image: Buffer): boolean {
  return image.includes(BOOTINFO_PATTERN);
}

/** The `CONFIG_*` values of a `.config` (`# CONFIG_X is not set` gives `n`; strings keep no quotes). */
export function parseDotconfig(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split("\n")) {
    const set = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (set) {
      const v = set[2]!;
      values.set(set[1]!, v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, "$1") : v);
      continue;
    }
    const unset = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/.exec(line);
    if (unset) values.set(unset[1]!, "n");
  }
  return values;
}

/** Whether a `.config` is a Unikraft build's (symbols only Unikraft's Kconfig tree defines). */
export function isUnikraftConfig(config: ReadonlyMap<string, string>): boolean {
  return config.has("CONFIG_UK_ARCH") || config.has("CONFIG_UK_NAME") || config.has("CONFIG_UK_DEFNAME");
}

/**
 * Where the build configuration of an image may be, nearest first: an
 * explicit one (a project's `.config.<target>`), make's `.config`/`config`
 * beside the image, and `kiln build`'s `<project>/.config.<image>` and
 * `<project>/.config` two levels up (`.unikraft/build/<image>`).
 */
export function imageConfigCandidates(kernel: string, explicit?: string): string[] {
  return [
    ...(explicit ? [explicit] : []),
    join(dirname(kernel), ".config"),
    join(dirname(kernel), "config"),
    join(dirname(kernel), "..", "..", `.config.${basename(kernel)}`),
    join(dirname(kernel), "..", "..", ".config"),
  ];
}

/** The first readable Unikraft `.config` among {@link imageConfigCandidates}, parsed, with its path. */
export async function readImageConfig(
  kernel: string,
  explicit?: string,
): Promise<{ path: string; config: Map<string, string> } | undefined> {
  for (const path of imageConfigCandidates(kernel, explicit)) {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch {
      continue;
    }
    const config = parseDotconfig(text);
    if (isUnikraftConfig(config)) return { path, config };
  }
  return undefined;
}

/** What `kiln run` needs to know of a Unikraft image, read from its build's configuration. */
export interface UnikraftImageFacts {
  /** 9p filesystems the image mounts by itself at boot: where, and the mount tag it looks for. */
  automounts9p: { guestPath: string; tag: string }[];
  /** Whether it mounts the volumes of a `vfs.fstab=[ … ]` argument. */
  fstab: boolean;
  /** Whether it has a network stack (a virtio NIC is of use). */
  network: boolean;
}

const yes = (c: ReadonlyMap<string, string>, sym: string) => c.get(`CONFIG_${sym}`) === "y";
const str = (c: ReadonlyMap<string, string>, sym: string) => c.get(`CONFIG_${sym}`) ?? "";

/**
 * Read {@link UnikraftImageFacts} from a Unikraft `.config`. The symbols are
 * lib/vfscore/Config.uk's: up to 0.16, `LIBVFSCORE_AUTOMOUNT_ROOTFS` with
 * `LIBVFSCORE_ROOTFS="9pfs"` mounts tag `LIBVFSCORE_ROOTDEV` at `/`, and
 * `LIBVFSCORE_FSTAB` reads `vfs.fstab`; from 0.17, the compiled-in table
 * `LIBVFSCORE_AUTOMOUNT_CI` (9PFS preset: tag `…_CI_9PFS_TAG` at `/`; custom
 * entries `…_CI<n>_DEV`/`_MP`/`_DRIVER`), the fallback table
 * `LIBVFSCORE_AUTOMOUNT_FB` (same shape) and `LIBVFSCORE_AUTOMOUNT_UP` for
 * `vfs.fstab`. A network stack means `LIBUKNETDEV` (lwIP and every driver use it).
 */
export function unikraftImageFacts(c: ReadonlyMap<string, string>): UnikraftImageFacts {
  const automounts9p: { guestPath: string; tag: string }[] = [];
  const add = (guestPath: string, tag: string) => {
    if (tag !== "" && guestPath !== "" && !automounts9p.some((a) => a.guestPath === guestPath))
      automounts9p.push({ guestPath, tag });
  };
  if (yes(c, "LIBVFSCORE_AUTOMOUNT_ROOTFS") && str(c, "LIBVFSCORE_ROOTFS") === "9pfs")
    add("/", str(c, "LIBVFSCORE_ROOTDEV") || "fs0");
  for (const table of ["CI", "FB"]) {
    if (!yes(c, `LIBVFSCORE_AUTOMOUNT_${table}`)) continue;
    if (yes(c, `LIBVFSCORE_AUTOMOUNT_${table}_9PFS`))
      add("/", str(c, `LIBVFSCORE_AUTOMOUNT_${table}_9PFS_TAG`) || "fs0");
    if (yes(c, `LIBVFSCORE_AUTOMOUNT_${table}_CUSTOM`)) {
      for (let i = 0; i < 4; i++) {
        const e = `LIBVFSCORE_AUTOMOUNT_${table}${i}`;
        if (str(c, `${e}_DRIVER`) === "9pfs") add(str(c, `${e}_MP`), str(c, `${e}_DEV`));
      }
    }
  }
  return {
    automounts9p,
    fstab: yes(c, "LIBVFSCORE_FSTAB") || yes(c, "LIBVFSCORE_AUTOMOUNT_UP"),
    network: yes(c, "LIBUKNETDEV"),
  };
}
