/**
 * Build fingerprints: `kiln build` skips Unikraft's make for a target when
 * nothing make's result depends on changed since the last successful make,
 * the way cargo compares a unit's fingerprint and ninja its `.ninja_log`
 * before running anything. Unikraft's make needs ≈0.5 s even when it has
 * nothing to do (its makefiles spawn a few hundred `mkdir -p`/`which`/`sed`
 * processes while being parsed, and `support/scripts/gitsha1` runs
 * `git ls-files -m` over the core), which is most of a no-op rebuild.
 *
 * A fingerprint covers (each as one named part, so Kiln can say what changed):
 * - `kiln`: Kiln's version and this file's {@link FINGERPRINT_FORMAT};
 * - `make argv`: the make command line without `-jN` (the job count does not
 *   change what gets built);
 * - `env NAME`: each environment variable make or the compiler reads that
 *   can change the result ({@link relevantEnv});
 * - `tools`: make, `${CROSS_COMPILE}gcc` and `${CROSS_COMPILE}ld` as found on
 *   PATH (real path and stat, so a compiler upgrade counts);
 * - `core DIR`, `library DIR`, `app DIR`: the state of each source tree
 *   (`tree-state.ts`), without `.git`, the project's `.unikraft/` (the build
 *   directory, and the placed core and libraries, walked as such), the
 *   output directory, Kiln's own files (`--build-log`, `KILN_HOME`), and
 *   another tree inside it (a library in the application directory is
 *   walked as a library);
 * - `inputs`: files make reads that live elsewhere: the `.config.<target>`,
 *   the defconfig Kiln wrote, archives seeded into the build directory;
 * - `outputs`: the built image and its `.dbg` (size, mtime, inode): when
 *   someone ran make by hand or deleted them, make runs.
 *
 * Input parts are taken *before* make runs and outputs after, so a file
 * edited while make was running (after the compiler read it) still differs
 * next time. Files changed within {@link RACY_WINDOW_MS} of the walk are also
 * kept by content hash (git's "racy clean" rule: a second write within one
 * timestamp tick — or one second, on filesystems that store seconds — leaves
 * the stat as it was). The fingerprint is removed before any make run and
 * written only after a successful one, so an interrupted or failed build
 * never leaves one.
 */

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { which } from "../core/exec.js";
import { writeFileAtomic } from "../core/fs.js";
import { kilnVersion } from "../core/version.js";
import { filesDigest, type TreeDigest, treeDigest } from "./tree-state.js";

/** Bumped whenever what a fingerprint covers changes, so old ones never match. */
export const FINGERPRINT_FORMAT = 1;

/**
 * Files changed this recently before the walk are compared by content too:
 * covers nanosecond filesystems (whose timestamps advance by a clock tick,
 * ≤ 10 ms) and those storing whole seconds (2 s: FAT's granularity).
 */
export const RACY_WINDOW_MS = 2000;

/**
 * Environment variables that can change make's result, exactly or by prefix:
 * - make's own: `MAKEFLAGS`/`MFLAGS`/`GNUMAKEFLAGS` (options, variables),
 *   `MAKEFILES` (extra makefiles make reads first), `PATH` (which programs run);
 * - Unikraft's make interface, which make also takes from the environment:
 *   `A C E L N O P`, `CROSS_COMPILE`, `COMPILER`, `LLVM_TARGET_ARCH`, `ARCH`,
 *   and `UK_*` / `CONFIG_*` (Unikraft's flags and Kconfig symbols) and
 *   `KCONFIG_*` (Kconfig's own settings);
 * - the toolchain variables make's implicit rules and most makefiles honour:
 *   `CC CXX CPP LD AR AS NM OBJCOPY OBJDUMP STRIP HOSTCC HOSTCXX` and
 *   `CFLAGS CXXFLAGS CPPFLAGS LDFLAGS ASFLAGS`;
 * - gcc's own environment (gcc(1) "Environment Variables"): `GCC_EXEC_PREFIX
 *   COMPILER_PATH LIBRARY_PATH CPATH C_INCLUDE_PATH CPLUS_INCLUDE_PATH
 *   SOURCE_DATE_EPOCH`.
 * Variables that only change what make prints (`V`, `LANG`, `TERM`) are left
 * out: with nothing to rebuild make would print nothing either.
 */
export const FINGERPRINT_ENV = [
  "PATH",
  "MAKEFLAGS",
  "MFLAGS",
  "GNUMAKEFLAGS",
  "MAKEFILES",
  "A",
  "C",
  "E",
  "L",
  "N",
  "O",
  "P",
  "CROSS_COMPILE",
  "COMPILER",
  "LLVM_TARGET_ARCH",
  "ARCH",
  "CC",
  "CXX",
  "CPP",
  "LD",
  "AR",
  "AS",
  "NM",
  "OBJCOPY",
  "OBJDUMP",
  "STRIP",
  "HOSTCC",
  "HOSTCXX",
  "CFLAGS",
  "CXXFLAGS",
  "CPPFLAGS",
  "LDFLAGS",
  "ASFLAGS",
  "GCC_EXEC_PREFIX",
  "COMPILER_PATH",
  "LIBRARY_PATH",
  "CPATH",
  "C_INCLUDE_PATH",
  "CPLUS_INCLUDE_PATH",
  "SOURCE_DATE_EPOCH",
] as const;
/** Name prefixes of further variables in the fingerprint (see {@link FINGERPRINT_ENV}). */
export const FINGERPRINT_ENV_PREFIXES = ["UK_", "CONFIG_", "KCONFIG_"] as const;

/** The variables of `env` a fingerprint covers, sorted by name (pure). */
export function relevantEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const names = Object.keys(env).filter(
    (k) =>
      (FINGERPRINT_ENV as readonly string[]).includes(k) ||
      FINGERPRINT_ENV_PREFIXES.some((p) => k.startsWith(p)),
  );
  const out: Record<string, string> = {};
  for (const k of names.sort()) {
    const v = env[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** A make argv without its `-jN` (pure): the job count does not change the result. */
export function argvWithoutJobs(argv: readonly string[]): string[] {
  return argv.filter((a) => !/^-j\d*$/.test(a) && !/^--jobs(=\d+)?$/.test(a));
}

/** What a target's make result depends on (see the module comment). */
export interface FingerprintSpec {
  makeArgv: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Source trees with their role, e.g. `{ label: "core", dir }`. */
  trees: readonly { label: "core" | "library" | "app"; dir: string }[];
  /** Absolute paths left out of every tree walk. */
  exclude: readonly string[];
  /** Further input files (absent ones count as absent). */
  files: readonly string[];
  /** `CROSS_COMPILE`, to find the compiler and linker. */
  crossCompile?: string;
  /** Files make produces. */
  outputs: readonly string[];
}

/** One named part of a fingerprint: a digest and how many entries it covers. */
export type FingerprintPart = TreeDigest;

export interface Fingerprint {
  format: number;
  /** sha256 over every part (name and digest), in name order. */
  sha256: string;
  parts: Record<string, FingerprintPart>;
  /** sha256 of the content of each input file that was racily clean when the parts were taken. */
  racy: Record<string, string>;
}

/** Input parts and the racily clean files among them. */
export interface Inputs {
  parts: Record<string, FingerprintPart>;
  /** Absolute paths of files changed within {@link RACY_WINDOW_MS} of the walk. */
  racy: string[];
  /** Newest file modification time (ns) of each tree, by directory. */
  newestMtimeNs: Map<string, bigint>;
}

function digestOf(text: string, entries = 1): FingerprintPart {
  return { sha256: createHash("sha256").update(text).digest("hex"), entries };
}

/** The parts that describe make's inputs (taken before make runs). */
export function takeInputs(spec: FingerprintSpec, nowMs = Date.now()): Inputs {
  const racy: string[] = [];
  const newestMtimeNs = new Map<string, bigint>();
  const racySinceNs = BigInt(nowMs - RACY_WINDOW_MS) * 1_000_000n;
  const parts: Record<string, FingerprintPart> = {
    kiln: digestOf(`${kilnVersion()}\n${FINGERPRINT_FORMAT}`),
    "make argv": digestOf(JSON.stringify(argvWithoutJobs(spec.makeArgv))),
  };
  const env = relevantEnv(spec.env);
  for (const [k, v] of Object.entries(env)) parts[`env ${k}`] = digestOf(v);
  const pathEnv = spec.env.PATH ?? "";
  const cross = spec.crossCompile ?? "";
  const tools = ["make", `${cross}gcc`, `${cross}ld`].map((t) => which(t, pathEnv) ?? `${t} (not found)`);
  parts.tools = filesDigest(tools);
  const exclude = new Set(spec.exclude);
  for (const t of spec.trees) {
    // Another root inside this tree is walked on its own (a core placed in the app directory, say).
    const others = spec.trees.filter((o) => o.dir !== t.dir).map((o) => o.dir);
    const ex = new Set([...exclude, ...others]);
    const newest = { mtimeNs: 0n };
    parts[`${t.label} ${t.dir}`] = treeDigest(t.dir, { exclude: ex, racySinceNs, racy, newest });
    newestMtimeNs.set(t.dir, newest.mtimeNs);
  }
  parts.inputs = filesDigest(spec.files, { racySinceNs, racy });
  return { parts, racy: [...new Set(racy)].sort(), newestMtimeNs };
}

/** sha256 of each file's content (absent ones as `absent`). */
export function contentHashes(files: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of files) {
    try {
      out[f] = createHash("sha256").update(readFileSync(f)).digest("hex");
    } catch {
      out[f] = "absent";
    }
  }
  return out;
}

/** The racily clean files of a stored fingerprint whose content differs now. */
export function racyChanges(fp: Fingerprint): string[] {
  const now = contentHashes(Object.keys(fp.racy));
  return Object.keys(fp.racy).filter((f) => now[f] !== fp.racy[f]);
}

/** The part that describes make's outputs (taken after make ran). */
export function outputParts(outputs: readonly string[]): Record<string, FingerprintPart> {
  return { outputs: filesDigest(outputs, { outputs: true }) };
}

/** Combine parts (and the content hashes of racily clean files) into a fingerprint (pure). */
export function sealFingerprint(
  parts: Record<string, FingerprintPart>,
  racy: Record<string, string> = {},
): Fingerprint {
  const names = Object.keys(parts).sort();
  const h = createHash("sha256");
  for (const n of names) h.update(`${n}\t${parts[n]!.sha256}\n`);
  const sorted: Record<string, FingerprintPart> = {};
  for (const n of names) sorted[n] = parts[n]!;
  return { format: FINGERPRINT_FORMAT, sha256: h.digest("hex"), parts: sorted, racy };
}

/** Names of the parts that differ between two fingerprints, added and removed ones included (pure). */
export function changedParts(before: Fingerprint | undefined, now: Fingerprint): string[] {
  if (!before) return ["no fingerprint of a previous successful build"];
  if (before.format !== now.format) return [`fingerprint format ${before.format} → ${now.format}`];
  const names = new Set([...Object.keys(before.parts), ...Object.keys(now.parts)]);
  return [...names].sort().filter((n) => before.parts[n]?.sha256 !== now.parts[n]?.sha256);
}

/** Where a target's fingerprint is kept: in its build directory, so `kiln clean --proper` drops it. */
export function fingerprintPath(buildDir: string, targetName: string): string {
  return join(buildDir, `.kiln-fingerprint.${targetName}.json`);
}

/** The stored fingerprint, or undefined when absent or unreadable (then make runs). */
export async function readFingerprint(file: string): Promise<Fingerprint | undefined> {
  try {
    const fp = JSON.parse(await readFile(file, "utf8")) as Partial<Fingerprint>;
    if (
      typeof fp.sha256 !== "string" ||
      typeof fp.format !== "number" ||
      typeof fp.parts !== "object" ||
      typeof fp.racy !== "object"
    ) {
      return undefined;
    }
    return fp as Fingerprint;
  } catch {
    return undefined;
  }
}

/** Store a fingerprint atomically. */
export async function writeFingerprint(file: string, fp: Fingerprint): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(fp, null, 1)}\n`);
}

/** Remove a stored fingerprint (before make runs, and when it failed). */
export async function dropFingerprint(file: string): Promise<void> {
  await rm(file, { force: true });
}
