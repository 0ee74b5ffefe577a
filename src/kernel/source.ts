/**
 * Linux source trees: a directory, or a tarball (Debian's
 * /usr/src/linux-source-6.1.tar.xz) extracted once into Kiln's cache. Each
 * source gets a digest for the kernel cache: a tarball's content hash
 * (remembered by path, size, mtime and inode so a repeated request does not
 * re-read 130 MB), or for a directory a hash of every file's path, size and
 * modification time (what make itself looks at).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readdir, readFile, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { errnoText, KilnError } from "../core/errors.js";
import { exec, requireTool } from "../core/exec.js";
import { produceAtomically, writeFileAtomic } from "../core/fs.js";
import type { Reporter } from "../core/output.js";
import { ARCH_FACTS, type KernelArch } from "./types.js";

/** A usable kernel tree. */
export interface KernelSource {
  /** The tree's top directory (holds Makefile, Kconfig, arch/). */
  dir: string;
  /** Content digest (sha256 hex) for the cache. */
  digest: string;
  /** `6.1.158` from the top Makefile. */
  version: string;
  /** What the user named. */
  given: string;
  kind: "directory" | "tarball";
}

/** `VERSION.PATCHLEVEL.SUBLEVEL` of a kernel's top Makefile, or undefined when it is not one. */
export function kernelVersionFromMakefile(makefile: string): string | undefined {
  const field = (name: string) => new RegExp(`^${name} = (\\d+)\\s*$`, "m").exec(makefile)?.[1];
  const [v, p, s] = [field("VERSION"), field("PATCHLEVEL"), field("SUBLEVEL")];
  if (v === undefined || p === undefined) return undefined;
  return `${v}.${p}.${s ?? "0"}`;
}

/** Throw KERNEL_NOT_A_TREE unless `dir` is a Linux source tree with `arch`; return its version. */
export async function checkKernelTree(dir: string, given: string, arch?: KernelArch): Promise<string> {
  const notATree = (why: string) =>
    new KilnError("KERNEL_NOT_A_TREE", `${given} is not a Linux kernel source tree: ${why}`, {
      hint: "pass the top directory of a Linux tree (with Makefile, Kconfig and arch/) or a tarball of one, e.g. /usr/src/linux-source-6.1.tar.xz (apt-get install linux-source-6.1)",
    });
  let makefile: string;
  try {
    makefile = await readFile(join(dir, "Makefile"), "utf8");
  } catch (e) {
    throw notATree(`no readable Makefile (${errnoText(e)})`);
  }
  const version = kernelVersionFromMakefile(makefile);
  if (!version) throw notATree("its Makefile has no 'VERSION =' and 'PATCHLEVEL =' lines");
  try {
    await stat(join(dir, "Kconfig"));
  } catch {
    throw notATree("no top-level Kconfig");
  }
  if (arch) {
    const archDir = arch === "x86_64" ? "x86" : ARCH_FACTS[arch].makeArch;
    try {
      await stat(join(dir, "arch", archDir, "Kconfig"));
    } catch {
      throw notATree(`no arch/${archDir}/Kconfig for ${arch}`);
    }
  }
  return version;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** A file's content digest, remembered in `memoFile` by path, size, mtime and inode. */
async function memoizedDigest(path: string, memoFile: string): Promise<string> {
  const st = await stat(path);
  const key = `${path}\0${st.size}\0${st.mtimeMs}\0${st.ino}`;
  let memo: Record<string, string> = {};
  try {
    memo = JSON.parse(await readFile(memoFile, "utf8")) as Record<string, string>;
  } catch {
    // first use, or unreadable: recompute
  }
  const known = memo[key];
  if (known) return known;
  const digest = await sha256File(path);
  memo[key] = digest;
  await writeFileAtomic(memoFile, `${JSON.stringify(memo, null, 2)}\n`);
  return digest;
}

/**
 * A directory's digest from every file's relative path, size and mtime
 * (make rebuilds on the same facts); `.git` is skipped. GNU find lists the
 * ~80,000 files of a kernel tree in about 0.3 s, a Node walk in several
 * seconds, which would miss the "cached kernel in under a second" goal.
 */
export async function directoryDigest(dir: string): Promise<string> {
  const find = requireTool("find", "digest a kernel source directory");
  const r = await exec(
    [find, ".", "-path", "./.git", "-prune", "-o", "!", "-type", "d", "-printf", "%P\\t%s\\t%T@\\n"],
    {
      cwd: dir,
    },
  );
  const lines = r.stdout.split("\n").filter(Boolean).sort();
  return createHash("sha256").update(lines.join("\n")).digest("hex");
}

/** The single top directory of an extracted tarball that holds the kernel (or the directory itself). */
async function treeTop(dir: string): Promise<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  if (entries.some((e) => e.name === "Makefile")) return dir;
  const dirs = entries.filter((e) => e.isDirectory());
  return dirs.length === 1 ? join(dir, dirs[0]!.name) : dir;
}

/**
 * Resolve `given` (a directory or a tarball) to a checked kernel tree.
 * Tarballs are extracted once under `<cacheDir>/kernel/sources/<digest>`.
 */
export async function openKernelSource(
  given: string,
  arch: KernelArch,
  cacheDir: string,
  reporter?: Reporter,
): Promise<KernelSource> {
  let st: Awaited<ReturnType<typeof stat>>;
  let path: string;
  try {
    path = await realpath(given);
    st = await stat(path);
  } catch (e) {
    throw new KilnError("KERNEL_SOURCE_MISSING", `kernel source ${given} cannot be read: ${errnoText(e)}`, {
      hint: "pass a Linux source directory or tarball (Debian: apt-get install linux-source-6.1, then --source /usr/src/linux-source-6.1.tar.xz)",
    });
  }
  if (st.isDirectory()) {
    const version = await checkKernelTree(path, given, arch);
    return { dir: path, digest: await directoryDigest(path), version, given, kind: "directory" };
  }
  const digest = await memoizedDigest(path, join(cacheDir, "kernel", "source-digests.json"));
  const target = join(cacheDir, "kernel", "sources", digest.slice(0, 32));
  let exists = false;
  try {
    exists = (await stat(target)).isDirectory();
  } catch {
    // not extracted yet
  }
  if (!exists) {
    const tar = requireTool("tar", "extract a kernel source tarball");
    const progress = reporter?.progress(`extract ${given}`);
    progress?.update("tar x (once; later builds reuse the extracted tree)");
    await mkdir(join(cacheDir, "kernel", "sources"), { recursive: true });
    await produceAtomically(target, async (tmp) => {
      await mkdir(tmp);
      const r = await exec([tar, "-xf", path, "-C", tmp], { allowFailure: true });
      if (r.exitCode !== 0) {
        throw new KilnError(
          "KERNEL_NOT_A_TREE",
          `${given} is neither a directory nor a readable tarball: tar exited with ${r.exitCode}`,
          {
            details: r.stderr.trim().split("\n").slice(-5),
            hint: "pass a Linux source directory or a .tar(.xz|.gz) of one",
          },
        );
      }
      await checkKernelTree(await treeTop(tmp), given, arch);
    });
    progress?.done("extracted");
  }
  const dir = await treeTop(target);
  const version = await checkKernelTree(dir, given, arch);
  return { dir, digest, version, given, kind: "tarball" };
}
