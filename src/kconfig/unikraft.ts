/**
 * Opening a Unikraft target's Kconfig tree: the environment Unikraft's
 * Makefile exports to conf (`COMMON_CONFIG_ENV`: UK_BASE, UK_APP, UK_NAME,
 * UK_FULLVERSION, KCONFIG_DIR, KCONFIG_LIB_BASE, KCONFIG_ELIB_DIRS, …), and
 * the Config.uk lists its `$(shell,support/build/config-submenu.sh …)`
 * calls generate (`plats.uk`, `drivers*.uk`, `libs.uk`, `app.uk`), produced
 * here from the same inputs without running the script: which directories
 * the core, the libraries and the application hold is Kiln's own knowledge.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import { KilnError } from "../core/errors.js";
import { shellSync } from "../core/exec.js";
import { globSync } from "./linux.js";
import { type KconfigHost, parseKconfig } from "./parser.js";
import type { KconfigTree } from "./types.js";

/** What decides a Unikraft target's Kconfig tree (make's `A=`, `L=`, `O=`, `N=`, `C=`). */
export interface UnikraftTreeOptions {
  /** The Unikraft core (make's `-C`, `UK_BASE`). */
  coreDir: string;
  /** The application directory (`A=`). */
  appDir: string;
  /** External library directories in order (`L=`). */
  libDirs: readonly string[];
  /** External platform directories (`P=`). */
  platDirs?: readonly string[];
  /** Directories excluded (`E=`). */
  excludeDirs?: readonly string[];
  /** The build directory (`O=`); `KCONFIG_DIR` is its `kconfig/`. */
  buildDir: string;
  /** The image name (`N=`, `CONFIG_UK_NAME`). */
  name: string;
  /** The configuration file (`C=`, `UK_CONFIG`). */
  configFile: string;
  /** Unikraft's architecture name (`x86_64`, `arm64`, `arm`) for `UK_ARCH`; default the host's. */
  arch?: string;
  /** `UK_FULLVERSION`; default version.mk's release plus the core's git short hash (support/scripts/gitsha1). */
  fullVersion?: string;
  /** Extra environment (PATH, …). */
  env?: Record<string, string>;
}

/** A Unikraft tree ready for parsing. */
export interface UnikraftTree {
  /** The core's top Config.uk (absolute). */
  entry: string;
  /** The environment conf sees. */
  env: Record<string, string>;
  host: KconfigHost;
  /** The generated Config.uk lists by path (`$(KCONFIG_DIR)/libs.uk` …), as the script would write them. */
  generated: Map<string, string>;
}

/** Unikraft's architecture name of this machine (HOSTARCH: the host gcc's target, first word). */
export function unikraftHostArch(nodeArch: string = process.arch): string {
  if (nodeArch === "x64") return "x86_64";
  if (nodeArch === "arm64") return "arm64";
  if (nodeArch === "arm") return "arm";
  return nodeArch;
}

/** version.mk's `UK_VERSION.UK_SUBVERSION[.UK_EXTRAVERSION]` and `UK_CODENAME`. */
export function parseUnikraftVersionMk(text: string): { release: string; codename: string } {
  const get = (k: string) => new RegExp(`^${k}[ \\t]*:?=[ \\t]*(.*?)[ \\t]*$`, "m").exec(text)?.[1];
  const extra = get("UK_EXTRAVERSION");
  const base = `${get("UK_VERSION") ?? ""}.${get("UK_SUBVERSION") ?? ""}`;
  return { release: extra !== undefined ? `${base}.${extra}` : base, codename: get("UK_CODENAME") ?? "" };
}

/** support/scripts/gitsha1: `~<short hash>`, `-custom` when tracked files are modified, else empty. */
function gitSha1(coreDir: string, env: Record<string, string>): string {
  const v = shellSync("git rev-parse --short HEAD 2>/dev/null", { cwd: coreDir, env }).trim();
  if (!v) return "";
  const d = shellSync("git ls-files -m 2>/dev/null", { cwd: coreDir, env }).trim();
  return d ? `~${v}-custom` : `~${v}`;
}

/** Splits a command line as /bin/sh does for the plain words config-submenu.sh calls use. */
export function shellWords(command: string): string[] | undefined {
  const words: string[] = [];
  let cur: string | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i] as string;
    if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) return undefined;
      cur = (cur ?? "") + command.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      const end = command.indexOf('"', i + 1);
      if (end < 0) return undefined;
      const inner = command.slice(i + 1, end);
      if (/[$`\\]/.test(inner)) return undefined;
      cur = (cur ?? "") + inner;
      i = end;
    } else if (c === " " || c === "\t") {
      if (cur !== undefined) words.push(cur);
      cur = undefined;
    } else if (/[$`\\|&;<>()*?[]/.test(c)) {
      return undefined;
    } else cur = (cur ?? "") + c;
  }
  if (cur !== undefined) words.push(cur);
  return words;
}

/** The file system the list generation looks at (injected for tests). */
export interface SubmenuFs {
  isDir(path: string): boolean;
  isFile(path: string): boolean;
  /** Entries of a directory, sorted as the shell's `*` sorts them in the C locale. */
  list(path: string): string[];
  realpath(path: string): string;
}

/**
 * What `support/build/config-submenu.sh ARGS` writes: the list of `source`
 * lines for every directory given by `-l`, `-r` (each subdirectory) and `-c`
 * (colon-separated) that holds a Config.uk and is not excluded (`-e`), in
 * that order, inside `menu "TITLE"` with `-t`. Returns the output path
 * (`-o`) and text; undefined when the arguments are not the script's.
 */
export function configSubmenu(
  args: readonly string[],
  fs: SubmenuFs,
): { path: string; text: string } | undefined {
  const paths: string[] = [];
  const excludes: string[] = [];
  let out: string | undefined;
  let title: string | undefined;
  const strip = (p: string) => p.replace(/\/$/, "");
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const v = args[i + 1];
    if (a === "-q") continue;
    if (v === undefined || !/^-[tlrceo]$/.test(a)) return undefined;
    i++;
    if (a === "-t") title = v;
    else if (a === "-l") paths.push(strip(v));
    else if (a === "-r") {
      if (v)
        for (const e of fs.list(strip(v))) if (fs.isDir(`${strip(v)}/${e}`)) paths.push(`${strip(v)}/${e}`);
    } else if (a === "-c") {
      for (const p of v.split(":")) if (p) paths.push(strip(p));
    } else if (a === "-e") {
      for (const p of v.split(":")) if (p) excludes.push(strip(p));
    } else out = v;
  }
  if (out === undefined) return undefined;
  const lines = ["# Auto generated file. DO NOT EDIT"];
  const libs: string[] = [];
  for (const p of paths) {
    if (!fs.isFile(`${p}/Config.uk`)) continue;
    if (excludes.includes(p)) {
      lines.push(`# Skipped excluded "${p}"`);
      continue;
    }
    libs.push(p);
  }
  if (title !== undefined) lines.push(`menu "${title}"`);
  for (const l of libs) lines.push(`source "${fs.realpath(`${l}/Config.uk`)}"`);
  if (title !== undefined) lines.push("endmenu");
  return { path: out, text: `${lines.join("\n")}\n` };
}

const realFs: SubmenuFs = {
  isDir: (p) => {
    try {
      return statSync(p).isDirectory();
    } catch {
      return false;
    }
  },
  isFile: (p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  },
  list: (p) => {
    try {
      return readdirSync(p).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    } catch {
      return [];
    }
  },
  realpath: (p) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  },
};

const canonical = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
};

/** Opens a Unikraft target's Kconfig tree (see the module comment). */
export function openUnikraftTree(opts: UnikraftTreeOptions, fs: SubmenuFs = realFs): UnikraftTree {
  const base = canonical(opts.coreDir);
  const entry = join(base, "Config.uk");
  if (!existsSync(entry)) {
    throw new KilnError(
      "KCONFIG_UNIKRAFT_TREE",
      `${opts.coreDir} has no Config.uk; it is not a Unikraft core`,
    );
  }
  const app = canonical(opts.appDir);
  const buildDir = canonical(opts.buildDir);
  const kconfigDir = join(buildDir, "kconfig");
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/",
    LANG: "C",
    LC_ALL: "C",
    ...opts.env,
  };
  const versionMk = readFileSync(join(base, "version.mk"), "utf8");
  const { release, codename } = parseUnikraftVersionMk(versionMk);
  const hostArch = unikraftHostArch();
  // The Makefile's COMMON_CONFIG_ENV, variable for variable.
  const env: Record<string, string> = {
    ...baseEnv,
    CONFIG_: "CONFIG_",
    KCONFIG_CONFIG: opts.configFile,
    KCONFIG_AUTOCONFIG: join(kconfigDir, "auto.conf"),
    KCONFIG_AUTOHEADER: join(buildDir, "include", "uk", "bits", "config.h"),
    KCONFIG_TRISTATE: join(kconfigDir, "tristate.config"),
    HOST_ARCH: hostArch,
    BUILD_DIR: buildDir,
    UK_BASE: base,
    UK_APP: app,
    UK_CONFIG: opts.configFile,
    UK_FULLVERSION: opts.fullVersion ?? `${release}${gitSha1(base, baseEnv)}`,
    UK_CODENAME: codename,
    UK_ARCH: opts.arch ?? hostArch,
    KCONFIG_DIR: kconfigDir,
    KCONFIG_LIB_BASE: join(base, "lib"),
    KCONFIG_ELIB_DIRS: opts.libDirs.join(":"),
    KCONFIG_PLAT_BASE: join(base, "plat"),
    KCONFIG_EPLAT_DIRS: (opts.platDirs ?? []).join(":"),
    KCONFIG_DRIV_BASE: join(base, "drivers"),
    KCONFIG_EAPP_DIR: base === app ? "" : app,
    KCONFIG_EXCLUDEDIRS: (opts.excludeDirs ?? []).map((d) => `:${canonical(d)}`).join(""),
    UK_NAME: opts.name,
  };
  const generated = new Map<string, string>();
  const host: KconfigHost = {
    env,
    shell: (command) => {
      const words = shellWords(command);
      if (words && words[0] === join(base, "support/build/config-submenu.sh")) {
        const r = configSubmenu(words.slice(1), fs);
        if (r) {
          generated.set(r.path, r.text);
          return `${r.path}\n`;
        }
      }
      return shellSync(command, { cwd: base, env });
    },
    readFile: (p) => {
      const abs = p.startsWith("/") ? p : join(base, p);
      const g = generated.get(abs);
      if (g !== undefined) return g;
      try {
        return readFileSync(abs, "utf8");
      } catch {
        return undefined;
      }
    },
    glob: (pattern) => globSync(base, pattern),
    info: (t) => process.stdout.write(`${t}\n`),
    warn: (t) => process.stderr.write(`${t}\n`),
  };
  return { entry, env, host, generated };
}

/** Parses a Unikraft tree with its support/kconfig's dialect (every `source` a glob). */
export function parseUnikraftKconfig(ut: UnikraftTree): KconfigTree {
  return parseKconfig(ut.entry, ut.host, { sourceGlob: true });
}
