/**
 * Device and ownership spec: lets an unprivileged user put device nodes and
 * root-owned or setuid files into an archive, which `mknod`/`chown` on the
 * host would need root for. One entry per line, in the column order of
 * device tables such as `/dev/console c 5 1 0600 0 0`:
 *
 * ```
 * # PATH        TYPE MAJOR MINOR MODE UID GID
 * /dev/console  c    5     1     0600 0   0
 * /dev/sda      b    8     0     0660 0   6
 * /run/initctl  p    -     -     0600 0   0
 * /dev          d    -     -     0755 0   0
 * /bin/busybox  f    -     -     4755 0   0
 * ```
 *
 * Types: `c` character device, `b` block device, `p` FIFO, `d` directory
 * (created, or its metadata set if the tree has it), `f` an existing file of
 * the tree whose mode and owner are set. MAJOR and MINOR are `-` (or 0) for
 * non-devices. MODE is octal. `#` starts a comment. Like Linux's
 * `usr/gen_init_cpio.c` file list, paths are absolute inside the archive.
 */
import { readFile } from "node:fs/promises";
import { errnoText, KilnError } from "../../core/errors.js";
import type { CpioEntry, CpioEntryType } from "./types.js";

const TYPES: Record<string, CpioEntryType> = { c: "char", b: "block", p: "fifo", d: "dir", f: "file" };

/** A spec line's entry; `file` entries only override metadata of a tree file. */
export interface SpecEntry extends CpioEntry {
  /** Where the line is, for errors found later (e.g. an `f` line naming no file). */
  location: { file: string; line: number; col: number };
}

function fail(file: string, line: number, col: number, message: string, hint?: string): never {
  throw new KilnError("CPIO_SPEC_INVALID", message, {
    location: { file, line, col },
    hint:
      hint ?? "each line is: PATH TYPE(c|b|p|d|f) MAJOR MINOR MODE UID GID, e.g. /dev/console c 5 1 0600 0 0",
  });
}

/** Normalise an archive path: `/dev//console` → `dev/console`; undefined if it leaves the root. */
function normalisePath(p: string): string | undefined {
  const parts: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") return undefined;
    parts.push(c);
  }
  return parts.length === 0 ? undefined : parts.join("/");
}

/**
 * Parse a device/ownership spec (pure). `file` names the spec in errors,
 * which are `CPIO_SPEC_INVALID` with the line and column of the bad field.
 * Entries have mtime 0; {@link packCpio} sets them to `SOURCE_DATE_EPOCH`.
 */
export function parseDeviceSpec(text: string, file: string): SpecEntry[] {
  const out: SpecEntry[] = [];
  const lines = text.split("\n");
  lines.forEach((raw, idx) => {
    const lineNo = idx + 1;
    const line = raw.replace(/\r$/, "");
    const hash = line.indexOf("#");
    const content = hash === -1 ? line : line.slice(0, hash);
    const fields: { text: string; col: number }[] = [];
    for (const m of content.matchAll(/\S+/g)) fields.push({ text: m[0], col: m.index + 1 });
    if (fields.length === 0) return;
    const names = ["PATH", "TYPE", "MAJOR", "MINOR", "MODE", "UID", "GID"];
    if (fields.length !== 7) {
      const col = fields.length > 7 ? fields[7]!.col : line.length + 1;
      fail(
        file,
        lineNo,
        col,
        fields.length > 7
          ? `expected 7 fields, got ${fields.length}: unexpected "${fields[7]!.text}"`
          : `expected 7 fields, got ${fields.length}: ${names[fields.length]} is missing`,
      );
    }
    const [pathF, typeF, majF, minF, modeF, uidF, gidF] = fields as [
      (typeof fields)[0],
      (typeof fields)[0],
      (typeof fields)[0],
      (typeof fields)[0],
      (typeof fields)[0],
      (typeof fields)[0],
      (typeof fields)[0],
    ];
    const path = normalisePath(pathF.text);
    if (path === undefined) {
      fail(file, lineNo, pathF.col, `path "${pathF.text}" does not name an entry inside the archive root`);
    }
    const type = TYPES[typeF.text];
    if (type === undefined) {
      fail(file, lineNo, typeF.col, `type must be one of c, b, p, d, f; got "${typeF.text}"`);
    }
    const isDev = type === "char" || type === "block";
    const num = (f: { text: string; col: number }, what: string, max: number): number => {
      if (!/^\d+$/.test(f.text) || Number(f.text) > max) {
        fail(file, lineNo, f.col, `${what} must be a decimal number from 0 to ${max}; got "${f.text}"`);
      }
      return Number(f.text);
    };
    const devNum = (f: { text: string; col: number }, what: string): number => {
      if (!isDev && (f.text === "-" || f.text === "0")) return 0;
      if (!isDev) fail(file, lineNo, f.col, `${what} must be "-" for type ${typeF.text}; got "${f.text}"`);
      return num(f, what, 0xffffffff);
    };
    const rdevMajor = devNum(majF, "MAJOR");
    const rdevMinor = devNum(minF, "MINOR");
    if (!/^0?[0-7]{1,4}$/.test(modeF.text)) {
      fail(
        file,
        lineNo,
        modeF.col,
        `MODE must be octal permission bits such as 0644 or 4755; got "${modeF.text}"`,
      );
    }
    const entry: SpecEntry = {
      path,
      type,
      mode: Number.parseInt(modeF.text, 8) & 0o7777,
      uid: num(uidF, "UID", 0xffffffff),
      gid: num(gidF, "GID", 0xffffffff),
      mtimeSec: 0,
      location: { file, line: lineNo, col: pathF.col },
    };
    if (isDev) {
      entry.rdevMajor = rdevMajor;
      entry.rdevMinor = rdevMinor;
    }
    out.push(entry);
  });
  return out;
}

/** Read and parse the device spec file at `path`; `CPIO_SPEC_MISSING` when it cannot be read. */
export async function readDeviceSpecFile(path: string): Promise<SpecEntry[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new KilnError("CPIO_SPEC_MISSING", `cannot read device spec ${path}: ${errnoText(e)}`, {
      cause: e,
      hint: "give a text file with lines like: /dev/console c 5 1 0600 0 0",
    });
  }
  return parseDeviceSpec(text, path);
}
