/**
 * What a staged tree's metadata means for a CPIO archive: a device/ownership
 * spec (part of Kiln's CPIO writer, `image/cpio/spec.ts`) carrying device
 * nodes, FIFOs, and the owners and modes of files and directories that the
 * host copy could not hold — so an unprivileged build of a Debian tarball
 * still yields `root:shadow` on /etc/shadow and a real /dev/console.
 */
import { lstat } from "node:fs/promises";
import { join } from "node:path";
import type { StagedTree } from "./tree.js";

/** The spec text and the paths it could not express (symlinks, names with whitespace). */
export async function cpioSpecFor(
  tree: StagedTree,
): Promise<{ text: string; lines: number; skipped: string[] }> {
  const lines: string[] = [];
  const skipped: string[] = [];
  const octal = (m: number) => `0${m.toString(8)}`;
  for (const s of tree.specials.values()) {
    if (/\s/.test(s.path)) {
      skipped.push(s.path);
      continue;
    }
    const t = s.type === "char" ? "c" : s.type === "block" ? "b" : "p";
    const dev = s.type === "fifo" ? "- -" : `${s.major} ${s.minor}`;
    lines.push(`/${s.path} ${t} ${dev} ${octal(s.mode)} ${s.uid} ${s.gid}`);
  }
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
  };
}
