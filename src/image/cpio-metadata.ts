/**
 * What a staged tree's metadata means for a CPIO archive: device nodes and
 * FIFOs as extra archive entries (with their recorded times), and a
 * device/ownership spec (part of Kiln's CPIO writer, `image/cpio/spec.ts`)
 * carrying the owners and modes of files and directories that the host copy
 * could not hold — so an unprivileged build of a Debian tarball still yields
 * `root:shadow` on /etc/shadow and a real /dev/console.
 */
import { lstat } from "node:fs/promises";
import { join } from "node:path";
import type { CpioEntry } from "./cpio/types.js";
import type { StagedTree } from "./tree.js";

/**
 * The device nodes and FIFOs (`nodes`, entries for `packCpio`'s
 * `extraEntries`), the spec text for owners and modes, and the paths the
 * spec could not express (symlinks, names with whitespace).
 */
export async function cpioSpecFor(
  tree: StagedTree,
): Promise<{ text: string; lines: number; skipped: string[]; nodes: CpioEntry[] }> {
  const lines: string[] = [];
  const skipped: string[] = [];
  const octal = (m: number) => `0${m.toString(8)}`;
  const nodes: CpioEntry[] = [...tree.specials.values()].map((s) => ({
    path: s.path,
    type: s.type,
    mode: s.mode,
    uid: s.uid,
    gid: s.gid,
    mtimeSec: s.mtimeSec,
    ...(s.type === "char" || s.type === "block" ? { rdevMajor: s.major, rdevMinor: s.minor } : {}),
  }));
  const paths = new Set([...tree.owners.keys(), ...tree.modes.keys()]);
  for (const p of [...paths].sort()) {
    const st = await lstat(join(tree.dir, p)).catch(() => undefined);
    if (!st || !(st.isFile() || st.isDirectory()) || /\s/.test(p)) {
      skipped.push(p);
      continue;
    }
    const owner = tree.owners.get(p) ?? { uid: 0, gid: 0 };
    const mode = tree.modes.get(p) ?? st.mode & 0o7777;
    lines.push(`/${p} ${st.isFile() ? "f" : "d"} - - ${octal(mode)} ${owner.uid} ${owner.gid}`);
  }
  return {
    text: lines.length ? `# written by kiln rootfs build\n${lines.join("\n")}\n` : "",
    lines: lines.length,
    skipped,
    nodes,
  };
}
