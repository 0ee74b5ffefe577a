/**
 * Opening a Linux source tree for the Kconfig engine: a directory, or a
 * source tarball (Debian's /usr/src/linux-source-6.1.tar.xz) whose Kconfig
 * files, scripts and defconfigs are extracted once into Kiln's cache. Builds
 * the environment the top Makefile exports to conf (ARCH, SRCARCH,
 * KERNELVERSION, CC, LD, CC_VERSION_TEXT, …) so `$(shell,…)` macros such as
 * cc-option run the real compiler in the tree, as `make olddefconfig` does.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { KilnError } from "../core/errors.js";
import { shellSync } from "../core/exec.js";
import { kilnDirs } from "../core/paths.js";
import type { KconfigHost } from "./parser.js";
import { prefetchListPath, ShellPrefetch } from "./shell-prefetch.js";

/** A Linux tree ready for parsing. */
export interface LinuxTree {
  /** Directory holding the (extracted) tree. */
  srctree: string;
  arch: string;
  srcarch: string;
  kernelVersion: string;
  /** The environment conf sees. */
  env: Record<string, string>;
  host: KconfigHost;
  /** Call after parsing: saves the shell-command list for the next run and cleans up. */
  done: () => void;
}

/** ARCH → SRCARCH as the top Makefile maps it. */
export function srcArchOf(arch: string): string {
  if (arch === "x86_64" || arch === "i386" || arch === "x86") return "x86";
  if (arch === "sparc64" || arch === "sparc32") return "sparc";
  if (arch === "parisc64") return "parisc";
  if (arch === "sh64") return "sh";
  return arch;
}

function kernelVersionOf(srctree: string): string {
  const mk = readFileSync(join(srctree, "Makefile"), "utf8");
  const get = (k: string) => new RegExp(`^${k}[ \\t]*=[ \\t]*(.*)$`, "m").exec(mk)?.[1]?.trim() ?? "";
  return `${get("VERSION")}.${get("PATCHLEVEL")}.${get("SUBLEVEL")}${get("EXTRAVERSION")}`;
}

/** Default cross compiler prefix for an architecture that is not the host's. */
function defaultCrossCompile(srcarch: string): string {
  const hostArch = process.arch === "x64" ? "x86" : process.arch === "arm64" ? "arm64" : process.arch;
  if (srcarch === hostArch) return "";
  if (srcarch === "arm64") return "aarch64-linux-gnu-";
  if (srcarch === "x86") return "x86_64-linux-gnu-";
  return "";
}

/** Files of a tarball Kconfig needs: Kconfig files, scripts, the top Makefile, defconfigs. */
const TAR_PATTERNS = [
  "*Kconfig*",
  "*/Makefile*",
  "*/scripts/*",
  "*/configs/*",
  "*/arch/*/tools/*",
  "*/include/linux/kconfig.h",
];

/**
 * Extracts the Kconfig-relevant part of a source tarball into Kiln's cache
 * (once; keyed by the tarball's name, size and mtime) and returns the tree's
 * directory. Extraction goes to a temporary directory renamed into place,
 * so an interrupted run leaves no half tree.
 */
export function extractTarball(tarball: string, cacheDir = kilnDirs().cacheDir): string {
  const st = statSync(tarball);
  // "v3": the patterns decide what a cached tree holds; trees extracted by earlier Kiln versions
  // (before `*` crossed `/`) lack arch/x86/Kconfig and every Kconfig file below the top directory
  const key = `${basename(tarball).replace(/\.tar(\.\w+)?$/, "")}-${st.size}-${Math.floor(st.mtimeMs)}-v3`;
  const dest = join(cacheDir, "kconfig-trees", key);
  const findRoot = (dir: string) => {
    const entries = readdirSync(dir);
    const only = entries.length === 1 ? join(dir, entries[0] as string) : dir;
    return existsSync(join(only, "Kconfig")) ? only : dir;
  };
  if (existsSync(join(dest, ".complete"))) return findRoot(join(dest, "tree"));
  const tmp = `${dest}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, "tree"), { recursive: true });
  try {
    execFileSync("tar", ["-xf", tarball, "-C", join(tmp, "tree"), "--wildcards", ...TAR_PATTERNS], {
      stdio: ["ignore", "ignore", "pipe"],
    });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw new KilnError("KCONFIG_TARBALL", `could not extract Kconfig files from ${tarball}`, { cause: e });
  }
  execFileSync("touch", [join(tmp, ".complete")]);
  rmSync(dest, { recursive: true, force: true });
  renameSync(tmp, dest);
  return findRoot(join(dest, "tree"));
}

export interface OpenLinuxOptions {
  /** Start the tree's known `$(shell,…)` commands in parallel (see shell-prefetch.ts); default true. */
  prefetchShell?: boolean;
  /** Cross compiler prefix (CROSS_COMPILE); defaults to the Debian cross gcc for a foreign arch. */
  crossCompile?: string;
  /** Extra or overriding environment variables. */
  env?: Record<string, string>;
  cacheDir?: string;
}

/** Opens a Linux tree (directory or tarball) for `arch`. */
export function openLinuxTree(srcOrTarball: string, arch: string, opts: OpenLinuxOptions = {}): LinuxTree {
  if (!existsSync(srcOrTarball)) {
    throw new KilnError("KCONFIG_SRCTREE", `source tree ${srcOrTarball} does not exist`, {
      hint: "pass --srctree DIR (a Linux source directory) or a tarball such as /usr/src/linux-source-6.1.tar.xz",
    });
  }
  const srctree = statSync(srcOrTarball).isDirectory()
    ? srcOrTarball
    : extractTarball(srcOrTarball, opts.cacheDir);
  if (!existsSync(join(srctree, "Kconfig"))) {
    throw new KilnError(
      "KCONFIG_SRCTREE",
      `${srctree} has no top-level Kconfig file; it is not a Linux source tree`,
    );
  }
  const srcarch = srcArchOf(arch);
  if (!existsSync(join(srctree, "arch", srcarch, "Kconfig"))) {
    throw new KilnError(
      "KCONFIG_ARCH",
      `architecture '${arch}' is not in ${srctree} (no arch/${srcarch}/Kconfig)`,
    );
  }
  const cross = opts.crossCompile ?? process.env.CROSS_COMPILE ?? defaultCrossCompile(srcarch);
  const kernelVersion = kernelVersionOf(srctree);
  const cc = `${cross}gcc`;
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/",
    LANG: "C",
    LC_ALL: "C",
  };
  const env: Record<string, string> = {
    ...baseEnv,
    ARCH: arch,
    SRCARCH: srcarch,
    KERNELVERSION: kernelVersion,
    CC: cc,
    LD: `${cross}ld`,
    NM: `${cross}nm`,
    OBJCOPY: `${cross}objcopy`,
    AR: `${cross}ar`,
    PAHOLE: "pahole",
    RUSTC: "rustc",
    BINDGEN: "bindgen",
    HOSTCC: "gcc",
    srctree: ".",
    ...(cross ? { CROSS_COMPILE: cross } : {}),
    ...opts.env,
  };
  if (env.CC_VERSION_TEXT === undefined) {
    env.CC_VERSION_TEXT = shellSync(`${env.CC} --version 2>/dev/null | head -n 1`, {
      cwd: srctree,
      env,
    }).replace(/\n$/, "");
  }
  const prefetch =
    opts.prefetchShell === false
      ? undefined
      : new ShellPrefetch(
          prefetchListPath(opts.cacheDir ?? kilnDirs().cacheDir, { srctree, ...env }),
          srctree,
          env,
        );
  const host: KconfigHost = {
    env,
    shell: (command) => prefetch?.take(command) ?? shellSync(command, { cwd: srctree, env }),
    readFile: (p) => {
      try {
        return readFileSync(p.startsWith("/") ? p : join(srctree, p), "utf8");
      } catch {
        return undefined;
      }
    },
    glob: (pattern) => globSync(srctree, pattern),
    info: (t) => process.stdout.write(`${t}\n`),
    warn: (t) => process.stderr.write(`${t}\n`),
  };
  return { srctree, arch, srcarch, kernelVersion, env, host, done: () => prefetch?.finish() };
}

/** A small glob for `source` patterns (`*`, `?`, `[…]` per path component), sorted. */
export function globSync(base: string, pattern: string): string[] {
  const parts = pattern.split("/");
  const toRe = (p: string) =>
    new RegExp(
      `^${p
        .replace(/[.+^${}()|\\]/g, "\\$&")
        .replace(/\*/g, "[^/]*")
        .replace(/\?/g, "[^/]")}$`,
    );
  let paths: string[] = [pattern.startsWith("/") ? "/" : ""];
  for (const part of parts) {
    if (part === "") continue;
    const next: string[] = [];
    for (const p of paths) {
      if (!/[*?[]/.test(part)) {
        next.push(p ? join(p, part) : part);
        continue;
      }
      const dir = p.startsWith("/") ? p : join(base, p || ".");
      let entries: string[] = [];
      try {
        entries = readdirSync(dir);
      } catch {
        entries = [];
      }
      const re = toRe(part);
      for (const e of entries.sort()) if (re.test(e)) next.push(p ? join(p, e) : e);
    }
    paths = next;
  }
  return paths.filter((p) => existsSync(p.startsWith("/") ? p : join(base, p))).sort();
}
