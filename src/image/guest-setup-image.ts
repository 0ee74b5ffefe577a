/**
 * Guest set-up for an ext4 image without copying the source tree: the tree
 * is only read (which init system, the current `/etc/inittab`, where
 * symlinks lead), and the few files the set-up adds or changes are written
 * into the image by the same `debugfs` pass that fixes owners (`mkdir`,
 * `write`, `symlink`, `rm`, `set_inode_field`). The operations are those of
 * {@link planGuestSetup}, resolved in the guest's scope as
 * {@link applyGuestSetup} resolves them on a staged copy, so both give the
 * guest the same files.
 */
import { lstat, readFile, writeFile } from "node:fs/promises";
import { join, posix } from "node:path";
import { KilnError } from "../core/errors.js";
import type { Reporter } from "../core/output.js";
import { debugfsQuote } from "./ext4.js";
import { type GuestFileOp, type GuestSetupOptions, guestSetupOps, type InitSystem } from "./guest-setup.js";
import { resolveInScope } from "./tree.js";

/** What an existing guest path is on the host (lstat of its resolved host path). */
type Existing = "file" | "dir" | "symlink" | "other" | undefined;

async function existing(host: string): Promise<{ kind: Existing; mode: number }> {
  const st = await lstat(host).catch(() => undefined);
  if (!st) return { kind: undefined, mode: 0 };
  const kind = st.isFile() ? "file" : st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : "other";
  return { kind, mode: st.mode & 0o7777 };
}

/**
 * The debugfs commands that set up the guest in an image of `root` (which
 * is read, never written). File contents go to files under `scratchDir`
 * that the commands name. Returns the init system found and the commands.
 */
export async function guestSetupDebugfsCommands(
  root: string,
  opts: GuestSetupOptions,
  scratchDir: string,
  reporter?: Reporter,
): Promise<{ initSystem: InitSystem; commands: string[]; ops: GuestFileOp[] }> {
  const { initSystem, ops } = await guestSetupOps(root, opts, reporter);
  const q = debugfsQuote;
  const cmds: string[] = [];
  /** Guest directories made or seen by earlier operations (the host tree does not change). */
  const made = new Set<string>(["/"]);
  const written = new Map<string, string>();
  let n = 0;
  const mkdirs = async (guestDir: string) => {
    const parts = guestDir.split("/").filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const g = `/${parts.slice(0, i).join("/")}`;
      if (made.has(g)) continue;
      const r = await resolveInScope(root, g);
      if (!r.exists && !made.has(r.guest)) cmds.push(`mkdir ${q(r.guest)}`, `sif ${q(r.guest)} mode 040755`);
      made.add(g);
      made.add(r.guest);
    }
  };
  for (const op of ops) {
    const parent = await resolveInScope(root, posix.dirname(op.path));
    await mkdirs(parent.guest);
    const target = op.op === "mkdir" ? await resolveInScope(root, op.path) : undefined;
    // A directory may resolve elsewhere (`/etc -> /srv/etc`): its own parents must exist too.
    if (target) await mkdirs(posix.dirname(target.guest));
    const guest = target ? target.guest : posix.join(parent.guest, posix.basename(op.path));
    const host = join(root, guest);
    const have = written.has(guest) ? { kind: "file" as Existing, mode: 0o644 } : await existing(host);
    if (op.op === "mkdir") {
      if (have.kind !== "dir" && !made.has(guest)) {
        if (have.kind !== undefined) throw notDir(op.path, have.kind);
        cmds.push(`mkdir ${q(guest)}`);
      }
      made.add(guest);
      cmds.push(`sif ${q(guest)} mode 0${(0o040000 | op.mode).toString(8)}`);
      continue;
    }
    if (have.kind === "dir") throw notDir(op.path, "dir", true);
    const replace = have.kind !== undefined;
    if (op.op === "symlink") {
      if (replace) cmds.push(`rm ${q(guest)}`);
      written.delete(guest);
      cmds.push(`symlink ${q(guest)} ${q(op.target)}`);
      continue;
    }
    // write, or append: the new content is the old (if a file) plus the addition.
    let content: string;
    let mode: number;
    if (op.op === "write") {
      content = op.content;
      mode = op.mode;
    } else {
      const old =
        written.get(guest) ??
        (have.kind === "file" ? await readFile(host, "utf8").catch(() => "") : undefined);
      content = (old ?? "") + op.content;
      mode = old === undefined ? 0o600 : have.mode;
    }
    written.set(guest, content);
    const file = join(scratchDir, `guest-${n++}`);
    await writeFile(file, content);
    if (replace) cmds.push(`rm ${q(guest)}`);
    // debugfs' write makes NAME in the current directory (create_inode.c do_write_internal).
    cmds.push(`cd ${q(parent.guest)}`, `write ${q(file)} ${q(posix.basename(guest))}`, `cd "/"`);
    cmds.push(`sif ${q(guest)} mode 0${(0o100000 | mode).toString(8)}`);
  }
  return { initSystem, commands: cmds, ops };
}

function notDir(path: string, kind: string, wantFile = false): KilnError {
  return new KilnError(
    "ROOTFS_GUEST_SETUP",
    wantFile
      ? `guest set-up must write ${path}, but the root filesystem has a directory there`
      : `guest set-up needs ${path} to be a directory, but the root filesystem has a ${kind} there`,
    { hint: "fix the source tree, or leave --guest-setup out and set the guest up yourself" },
  );
}
