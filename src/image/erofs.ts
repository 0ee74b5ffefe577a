/**
 * EROFS images with erofs-utils' `mkfs.erofs IMAGE DIR` (Debian 12: 1.5).
 * `--all-root` makes every file root-owned whoever runs Kiln; `-T` fixes all
 * timestamps and `-U` the UUID for reproducible images; `-z` compresses.
 * erofs-utils 1.5 has no way to add entries the host directory lacks, so
 * device nodes recorded from archives are left out (with a warning), and
 * archive owners survive only when Kiln runs as root (it chowns the staging
 * copy, which it owns).
 */
import { lchown } from "node:fs/promises";
import { join } from "node:path";
import { exec, requireTool } from "../core/exec.js";
import type { Reporter } from "../core/output.js";
import { checkUuid } from "./ext4.js";
import { type StagedTree, walkTree } from "./tree.js";

export interface MakeErofsOptions {
  tree: StagedTree;
  output: string;
  uuid?: string;
  epochSec?: number;
  keepOwner?: boolean;
  /** `lz4` or `lz4hc` (what Debian's erofs-utils 1.5 offers); default none. */
  compression?: "lz4" | "lz4hc";
  reporter?: Reporter;
}

/** mkfs.erofs argv (pure). */
export function planErofsArgv(
  tool: string,
  opts: {
    output: string;
    dir: string;
    allRoot: boolean;
    uuid?: string;
    epochSec?: number;
    compression?: string;
  },
): string[] {
  const argv = [tool, "--quiet"];
  if (opts.compression) argv.push(`-z${opts.compression}`);
  if (opts.epochSec !== undefined) argv.push(`-T${opts.epochSec}`);
  if (opts.uuid) argv.push(`-U${opts.uuid}`);
  if (opts.allRoot) argv.push("--all-root");
  argv.push(opts.output, opts.dir);
  return argv;
}

/** Build an EROFS image of `tree` at `output`. */
export async function makeErofs(opts: MakeErofsOptions): Promise<{ uuid: string | undefined }> {
  const tool = requireTool("mkfs.erofs", "make an EROFS image");
  const { tree, reporter } = opts;
  if (tree.specials.size > 0) {
    reporter?.warn(
      `${tree.specials.size} device node(s), FIFO(s) or socket(s) from the source are left out of the EROFS image (e.g. /${[...tree.specials.keys()][0]}); use --format ext4 or cpio to keep them`,
    );
  }
  let allRoot = !(opts.keepOwner && !tree.ownersRecorded);
  if (tree.ownersRecorded && tree.owners.size > 0) {
    if (process.getuid?.() === 0) {
      // The staging tree is Kiln's own copy: give it the archive's owners.
      for await (const e of walkTree(tree.dir)) {
        const o = tree.owners.get(e.path) ?? { uid: 0, gid: 0 };
        await lchown(join(tree.dir, e.path), o.uid, o.gid);
      }
      allRoot = false;
    } else {
      reporter?.warn(
        `${tree.owners.size} non-root owner(s) from the source become root in the EROFS image (mkfs.erofs reads owners from the host; run as root or use --format ext4 to keep them)`,
      );
    }
  }
  const uuid = opts.uuid === undefined ? undefined : checkUuid(opts.uuid);
  const progress = reporter?.progress("erofs");
  progress?.update("mkfs.erofs");
  await exec(
    planErofsArgv(tool, {
      output: opts.output,
      dir: tree.dir,
      allRoot,
      uuid,
      epochSec: opts.epochSec,
      compression: opts.compression,
    }),
  );
  progress?.done();
  return { uuid };
}
