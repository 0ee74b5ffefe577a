/**
 * Listing a CPIO archive: the data behind `kiln rootfs ls` (pure formatting
 * kept apart from reading the file).
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { errnoCode, errnoText, KilnError } from "../../core/errors.js";
import { readCpio } from "./reader.js";
import type { CpioEntryType, CpioReadEntry } from "./types.js";

/** One listed member, as `kiln rootfs ls --json` prints it. */
export interface CpioListing {
  path: string;
  type: CpioEntryType;
  /** Permission bits as an octal string, e.g. `"0755"`. */
  mode: string;
  uid: number;
  gid: number;
  sizeBytes: number;
  mtimeSec: number;
  inode: number;
  nlink: number;
  linkTarget?: string;
  rdevMajor?: number;
  rdevMinor?: number;
}

/** Read every entry's metadata from the CPIO file at `path` (content is skipped). */
export async function listCpio(path: string): Promise<CpioListing[]> {
  try {
    const st = await stat(path);
    if (!st.isFile()) {
      throw new KilnError(
        "CPIO_NOT_A_FILE",
        `${path} is ${st.isDirectory() ? "a directory" : "not a regular file"}, not a CPIO archive`,
        { hint: "give the archive file, e.g. kiln rootfs ls initrd.cpio" },
      );
    }
  } catch (e) {
    if (e instanceof KilnError) throw e;
    const code = errnoCode(e);
    throw new KilnError("FILE_NOT_FOUND", `cannot read ${path}: ${errnoText(e)}`, {
      cause: e,
      hint:
        code === "EACCES"
          ? "you need read permission on the archive"
          : "check the path: rootfs ls reads a CPIO archive such as the one kiln rootfs build -o x.cpio writes",
    });
  }
  const out: CpioListing[] = [];
  const input = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const e of readCpio(input)) out.push(toListing(e));
  } finally {
    input.destroy();
  }
  return out;
}

function toListing(e: CpioReadEntry): CpioListing {
  const l: CpioListing = {
    path: e.path,
    type: e.type,
    mode: e.mode.toString(8).padStart(4, "0"),
    uid: e.uid,
    gid: e.gid,
    sizeBytes: e.type === "symlink" ? Buffer.byteLength(e.linkTarget ?? "") : (e.sizeBytes ?? 0),
    mtimeSec: e.mtimeSec,
    inode: e.inode,
    nlink: e.nlink,
  };
  if (e.linkTarget !== undefined) l.linkTarget = e.linkTarget;
  if (e.rdevMajor !== undefined) {
    l.rdevMajor = e.rdevMajor;
    l.rdevMinor = e.rdevMinor;
  }
  return l;
}

const TYPE_CHAR: Record<CpioEntryType, string> = {
  file: "-",
  dir: "d",
  symlink: "l",
  char: "c",
  block: "b",
  fifo: "p",
  socket: "s",
};

/** `ls -l` style mode string: `drwxr-xr-x`, `-rwsr-xr-x`, `drwxrwxrwt`. */
export function modeString(type: CpioEntryType, mode: number): string {
  const rwx = (bits: number, special: boolean, sc: string) => {
    const x = bits & 1;
    const exec = special ? (x ? sc : sc.toUpperCase()) : x ? "x" : "-";
    return `${bits & 4 ? "r" : "-"}${bits & 2 ? "w" : "-"}${exec}`;
  };
  return (
    TYPE_CHAR[type] +
    rwx((mode >> 6) & 7, (mode & 0o4000) !== 0, "s") +
    rwx((mode >> 3) & 7, (mode & 0o2000) !== 0, "s") +
    rwx(mode & 7, (mode & 0o1000) !== 0, "t")
  );
}

/**
 * A name as a terminal may show it: control characters (escape sequences, newlines) and
 * backslashes written as C escapes, as GNU `ls -b` / `ls --quoting-style=escape` does, so a
 * hostile archive cannot rewrite the screen or fake extra entries (issue 9). `--json` keeps the
 * raw names.
 */
export function printableName(name: string): string {
  const named: Record<string, string> = { "\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\" };
  return name.replace(
    /[\x00-\x1f\x7f\\]/g,
    (c) => named[c] ?? `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`,
  );
}

/** Long listing lines (`mode uid/gid size date path -> target`), columns aligned. */
export function formatLongListing(entries: CpioListing[]): string[] {
  const owner = entries.map((e) => `${e.uid}/${e.gid}`);
  const size = entries.map((e) =>
    e.rdevMajor !== undefined ? `${e.rdevMajor}, ${e.rdevMinor}` : String(e.sizeBytes),
  );
  const ow = Math.max(0, ...owner.map((s) => s.length));
  const sw = Math.max(0, ...size.map((s) => s.length));
  return entries.map((e, i) => {
    const date = new Date(e.mtimeSec * 1000).toISOString().slice(0, 16).replace("T", " ");
    const target = e.linkTarget !== undefined ? ` -> ${e.linkTarget}` : "";
    return `${modeString(e.type, Number.parseInt(e.mode, 8))} ${owner[i]!.padEnd(ow)} ${size[i]!.padStart(sw)} ${date} ${printableName(e.path)}${target}`;
  });
}
