/**
 * Unikraft's make interface, pure: the argv for a build step, the cross
 * toolchain prefix, and the parsing of make's output into progress and
 * compiler errors. Running make lives in `run-make.ts`.
 *
 * The interface is Unikraft's (Makefile: `A=` application, `L=` libraries
 * separated by `:`, `O=` build directory, `N=` image name, `C=` absolute
 * configuration file), the same one KraftKit's make package drives and the
 * tutorial's "make" method uses by hand.
 */
import type { Architecture } from "../kraftfile/types.js";

export interface MakeInvocation {
  /** The Unikraft core (make's `-C`). */
  coreDir: string;
  /** The application directory (`A=`). */
  appDir: string;
  /** Library directories in order (`L=`, colon-separated). */
  libDirs: string[];
  /** Build directory (`O=`). */
  buildDir: string;
  /** Image name (`N=`, becomes `CONFIG_UK_NAME`). */
  name: string;
  /** Absolute path of the `.config` (`C=`). */
  configFile: string;
  /** Goal, e.g. `defconfig`, `clean`; none for the default build. */
  goal?: string;
  /** Parallel jobs (`-j`). */
  jobs?: number;
  /** Cross toolchain prefix, e.g. `aarch64-linux-gnu-`. */
  crossCompile?: string;
  /** Further `NAME=value` variables, e.g. `UK_DEFCONFIG`. */
  vars?: Record<string, string>;
  /** Unikraft's verbose mode (`V=1`): print full command lines. */
  verbose?: boolean;
}

/** The argv for one make run. */
export function planMake(inv: MakeInvocation): string[] {
  const argv = ["make", "-C", inv.coreDir, `O=${inv.buildDir}`, `A=${inv.appDir}`];
  // Unikraft rejects an empty L= less gracefully than an absent one.
  if (inv.libDirs.length > 0) argv.push(`L=${inv.libDirs.join(":")}`);
  argv.push(`N=${inv.name}`, `C=${inv.configFile}`);
  if (inv.crossCompile) argv.push(`CROSS_COMPILE=${inv.crossCompile}`);
  if (inv.verbose) argv.push("V=1");
  for (const [k, v] of Object.entries(inv.vars ?? {})) argv.push(`${k}=${v}`);
  if (inv.jobs !== undefined && inv.jobs > 0) argv.push(`-j${inv.jobs}`);
  if (inv.goal) argv.push(inv.goal);
  return argv;
}

/** Node's `process.arch` → Unikraft's architecture name. */
export function hostArchitecture(nodeArch: string = process.arch): Architecture | undefined {
  if (nodeArch === "x64") return "x86_64";
  if (nodeArch === "arm64") return "arm64";
  if (nodeArch === "arm") return "arm";
  return undefined;
}

/** A GNU cross toolchain: its prefix and the Debian package that provides it. */
export interface CrossToolchain {
  prefix: string;
  debianPackage: string;
}

const CROSS: Record<Architecture, CrossToolchain> = {
  x86_64: { prefix: "x86_64-linux-gnu-", debianPackage: "gcc-x86-64-linux-gnu" },
  arm64: { prefix: "aarch64-linux-gnu-", debianPackage: "gcc-aarch64-linux-gnu" },
  arm: { prefix: "arm-linux-gnueabihf-", debianPackage: "gcc-arm-linux-gnueabihf" },
};

/**
 * The cross toolchain needed to build `target` on `host`, or undefined when
 * the host compiler will do. Debian's cross compilers are the ones Unikraft's
 * docs use (`CROSS_COMPILE=aarch64-linux-gnu-`).
 */
export function crossToolchainFor(
  target: Architecture,
  host: Architecture | undefined,
): CrossToolchain | undefined {
  if (host === target) return undefined;
  return CROSS[target];
}

/** One interesting line of make's output. */
export type MakeEvent =
  /** A build step Unikraft prints as `  CC      libfoo: bar.o`. */
  | { kind: "step"; verb: string; object: string }
  /** A compiler or linker error. */
  | { kind: "error"; text: string; file?: string; line?: number; col?: number }
  /** make's own failure line (`make[2]: *** [...] Error 1`). */
  | { kind: "make-error"; text: string };

/** Verbs that compile or link an object; each counts as one unit of progress. */
const COUNTED = new Set(["CC", "CXX", "AS", "LD", "GOC", "RUSTC", "AR"]);

/** Whether a step counts toward compiled/total progress. */
export function isCountedStep(verb: string): boolean {
  return COUNTED.has(verb);
}

/**
 * Classify one line of make output. Unikraft's quiet build prints
 * `  VERB    target` (support/build/Makefile.rules `verbose_cmd`); gcc and ld
 * report `file:line:col: error: message` and `file:line: undefined reference`.
 */
export function parseMakeLine(line: string): MakeEvent | undefined {
  const step = /^ {2}([A-Z][A-Z0-9_]{1,9}) +(\S.*)$/.exec(line);
  if (step) return { kind: "step", verb: step[1]!, object: step[2]!.trim() };
  const located = /^(\S[^:]*):(\d+):(?:(\d+):)? (?:fatal )?error: (.*)$/.exec(line);
  if (located) {
    return {
      kind: "error",
      text: line.trim(),
      file: located[1]!,
      line: Number(located[2]),
      ...(located[3] ? { col: Number(located[3]) } : {}),
    };
  }
  if (/undefined reference to|^collect2: error|: error: |^\S*ld: .*(cannot find|error)/.test(line)) {
    return { kind: "error", text: line.trim() };
  }
  if (/^make(\[\d+\])?: \*\*\*/.test(line)) return { kind: "make-error", text: line.trim() };
  return undefined;
}

/** The first `max` distinct compiler errors in a log, else make's own failure lines. */
export function firstErrors(log: string, max = 5): string[] {
  const errors: string[] = [];
  const makeErrors: string[] = [];
  for (const line of log.split("\n")) {
    const ev = parseMakeLine(line);
    if (ev?.kind === "error" && !errors.includes(ev.text)) errors.push(ev.text);
    else if (ev?.kind === "make-error") makeErrors.push(ev.text);
  }
  return (errors.length > 0 ? errors : makeErrors).slice(0, max);
}

/** Number of counted steps in a log (to estimate the next build's total). */
export function countSteps(log: string): number {
  let n = 0;
  for (const line of log.split("\n")) {
    const ev = parseMakeLine(line);
    if (ev?.kind === "step" && isCountedStep(ev.verb)) n++;
  }
  return n;
}
