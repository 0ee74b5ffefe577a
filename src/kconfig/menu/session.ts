/**
 * Opening a menu session on a Linux tree: parse its Kconfig, read the input
 * `.config` as mconf's conf_read() does, and save as conf_write() does
 * (atomically, so an interrupted save leaves the old file).
 */
import { existsSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { KilnError } from "../../core/errors.js";
import { writeFileAtomic } from "../../core/fs.js";
import { openLinuxTree } from "../linux.js";
import { olddefconfig } from "../ops.js";
import { parseKconfig } from "../parser.js";
import { MenuState } from "./state.js";

/** What {@link openLinuxMenu} needs. */
export interface LinuxMenuOptions {
  /** A Linux source directory or tarball. */
  srctree: string;
  arch: string;
  /** The `.config` to start from; absent: every symbol at its default. */
  inFile?: string;
  /** Where to save (default: `inFile`). */
  outFile: string;
  crossCompile?: string;
  /** How the title and messages name the output (default: `outFile`). */
  label?: string;
  /** Without `inFile`: the files tried for defaults (default: {@link defconfigList}). */
  defaults?: string[];
}

/**
 * KCONFIG_DEFCONFIG_LIST as Linux 6.1's scripts/kconfig/Makefile builds it
 * for `make menuconfig` without a `.config`: the running kernel's config
 * (unless cross compiling), then the architecture's KBUILD_DEFCONFIG
 * (arch/x86/Makefile: `$(ARCH)_defconfig`, x86_64_defconfig here).
 */
export function defconfigList(
  srctree: string,
  arch: string,
  srcarch: string,
  crossCompiling: boolean,
): string[] {
  const r = release();
  const list = crossCompiling ? [] : [`/lib/modules/${r}/.config`, "/etc/kernel-config", `/boot/config-${r}`];
  let mk = "";
  try {
    mk = readFileSync(join(srctree, "arch", srcarch, "Makefile"), "utf8");
  } catch {
    return list;
  }
  // the last assignment is the one for an explicit ARCH (x86: the else branch)
  const all = [...mk.matchAll(/^\s*KBUILD_DEFCONFIG\s*:?=\s*(\S+)/gm)].map((m) => m[1] as string);
  const name = all.at(-1)?.replace(/\$\(ARCH\)/g, arch);
  if (name) list.push(`arch/${srcarch}/configs/${name}`);
  return list;
}

/** An open menu: its state and how to save it. */
export interface MenuSession {
  state: MenuState;
  outFile: string;
  /** Writes the `.config`; returns the status message. */
  save(): Promise<string>;
}

/** Parses the tree and reads the input; the menu's title is mconf's (`.config - <mainmenu>`). */
export function openLinuxMenu(opts: LinuxMenuOptions): MenuSession {
  const lt = openLinuxTree(opts.srctree, opts.arch, { crossCompile: opts.crossCompile });
  let tree: ReturnType<typeof parseKconfig>;
  try {
    tree = parseKconfig("Kconfig", lt.host);
  } finally {
    lt.done();
  }
  let text = "";
  let loaded: string | undefined;
  if (opts.inFile === undefined) {
    const hostArch = process.arch === "x64" ? "x86" : process.arch;
    const list = opts.defaults ?? defconfigList(lt.srctree, opts.arch, lt.srcarch, lt.srcarch !== hostArch);
    for (const f of list) {
      const path = isAbsolute(f) ? f : join(lt.srctree, f);
      if (!existsSync(path)) continue;
      text = readFileSync(path, "utf8");
      loaded = f;
      break;
    }
  } else {
    if (!existsSync(opts.inFile))
      throw new KilnError("MENU_INPUT", `input configuration ${opts.inFile} does not exist`, {
        hint: "leave out --in to start from the defaults",
      });
    text = readFileSync(opts.inFile, "utf8");
  }
  const cfg = olddefconfig(tree, text);
  const outFile = resolve(opts.outFile);
  const label = opts.label ?? opts.outFile;
  const state = new MenuState(cfg, `${label} - ${tree.root.prompt?.text ?? "Kconfig"}`);
  // conf_read(NULL) without a .config marks the configuration changed, so leaving asks to save
  if (opts.inFile === undefined) {
    state.dirty = true;
    state.message = loaded
      ? `using defaults found in ${loaded}`
      : "no configuration found: every option at its default";
  }
  return {
    state,
    outFile,
    async save() {
      await writeFileAtomic(outFile, cfg.dotconfig());
      return `Configuration saved to ${label}`;
    },
  };
}
