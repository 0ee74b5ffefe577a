/**
 * Helpers for the CPIO tests: a source tree with every kind of member, and a
 * description of a tree (independent of Kiln's walker) to compare an
 * extracted archive against its source.
 */

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

/** Build a tree with files of awkward sizes and names, modes, symlinks, hard links and a FIFO. */
export function makeSourceTree(root: string): void {
  mkdirSync(join(root, "bin"), { recursive: true });
  mkdirSync(join(root, "etc/ssh"), { recursive: true });
  mkdirSync(join(root, "tmp"));
  mkdirSync(join(root, "usr/share/empty"), { recursive: true });
  mkdirSync(join(root, "dir with space/ünïcödé"), { recursive: true });
  writeFileSync(join(root, "bin/tool"), "#!/bin/sh\necho tool\n");
  chmodSync(join(root, "bin/tool"), 0o4755);
  writeFileSync(join(root, "etc/empty"), "");
  writeFileSync(join(root, "etc/odd"), "abc"); // not a multiple of 4: exercises data padding
  writeFileSync(join(root, "etc/ssh/key"), "secret\n");
  chmodSync(join(root, "etc/ssh/key"), 0o600);
  chmodSync(join(root, "tmp"), 0o1777);
  const big = Buffer.alloc(3 * 1024 * 1024 + 5);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 9)) & 0xff;
  writeFileSync(join(root, "usr/share/big.bin"), big);
  writeFileSync(join(root, "dir with space/ünïcödé/file name.txt"), "unicode\n");
  symlinkSync("tool", join(root, "bin/sh"));
  symlinkSync("/etc/ssh/key", join(root, "etc/abs-link"));
  symlinkSync("does/not/exist", join(root, "etc/dangling"));
  writeFileSync(join(root, "bin/multi"), "three names, one inode\n");
  linkSync(join(root, "bin/multi"), join(root, "etc/multi-2"));
  linkSync(join(root, "bin/multi"), join(root, "usr/multi-3"));
  execFileSync("mkfifo", [join(root, "etc/fifo")]);
}

export interface Described {
  type: string;
  mode: number;
  target?: string;
  sha256?: string;
  ino?: number;
}

/** Every member below `root` (not `root` itself): type, permission bits, link target, content hash. */
export function describeTree(
  root: string,
  skip: (rel: string) => boolean = () => false,
): Map<string, Described> {
  const out = new Map<string, Described>();
  const visit = (rel: string) => {
    for (const name of readdirSync(join(root, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      if (skip(r)) continue;
      const abs = join(root, r);
      const st = lstatSync(abs);
      const d: Described = { type: "other", mode: st.mode & 0o7777, ino: st.ino };
      if (st.isDirectory()) d.type = "dir";
      else if (st.isSymbolicLink()) {
        d.type = "symlink";
        d.target = readlinkSync(abs);
        d.mode = 0o777;
      } else if (st.isFile()) {
        d.type = "file";
        d.sha256 = createHash("sha256").update(readFileSync(abs)).digest("hex");
      } else if (st.isFIFO()) d.type = "fifo";
      out.set(r, d);
      if (st.isDirectory()) visit(r);
    }
  };
  visit("");
  return out;
}

/** The description without inode numbers (which differ between trees). */
export function withoutInodes(m: Map<string, Described>): Record<string, Omit<Described, "ino">> {
  const o: Record<string, Omit<Described, "ino">> = {};
  for (const [k, { ino: _ino, ...rest }] of [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)))
    o[k] = rest;
  return o;
}
