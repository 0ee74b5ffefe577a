/**
 * Opening a menu session on a Linux tree: parse its Kconfig, read the input
 * `.config` as mconf's conf_read() does, and save as conf_write() does
 * (atomically, so an interrupted save leaves the old file).
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
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
  const tree = parseKconfig("Kconfig", lt.host);
  let text = "";
  if (opts.inFile !== undefined) {
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
  return {
    state,
    outFile,
    async save() {
      await writeFileAtomic(outFile, cfg.dotconfig());
      return `Configuration saved to ${label}`;
    },
  };
}
