/**
 * `kiln config menu --srctree DIR|TARBALL --arch ARCH [--in FILE] [--out FILE]`:
 * a menuconfig for a Linux tree on Kiln's own Kconfig engine (no ncurses, no
 * compiler, no `make`).
 */
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { usageError } from "../../core/errors.js";
import { openLinuxMenu } from "../../kconfig/menu/session.js";
import { type CommandDef, str } from "../command.js";
import { requireTerminal, runMenuSession } from "../menu/run.js";

const command: CommandDef = {
  name: ["config", "menu"],
  summary: "menuconfig for a Linux tree: browse, set, search and see why an option is hidden or stuck",
  usage: "config menu --srctree DIR|TARBALL --arch ARCH [--in FILE] [--out FILE]",
  maxPositionals: 0,
  options: {
    srctree: {
      type: "string",
      valueName: "DIR|TARBALL",
      description: "Linux source directory or tarball (e.g. /usr/src/linux-source-6.1.tar.xz)",
    },
    arch: { type: "string", valueName: "ARCH", description: "ARCH as make takes it (x86_64, arm64, …)" },
    in: {
      type: "string",
      valueName: "FILE",
      description: "the .config to start from (default: ./.config if present)",
    },
    out: { type: "string", valueName: "FILE", description: "where to save (default: --in, else ./.config)" },
    "cross-compile": {
      type: "string",
      valueName: "PREFIX",
      description: "CROSS_COMPILE for $(shell,…) checks",
    },
  },
  details: [
    "keys: arrows, PgUp/PgDn, Home/End move; Enter opens a menu or edits a value; Space, y, n, m set;",
    "Esc or Left goes back; ? help; w why (dependencies with their values, the blocking term, selects,",
    "the default that applied; Enter on a term jumps to it); / search (Tab: regex); z shows hidden",
    "entries; s saves; q quits (asking when there are unsaved changes). Ctrl-C leaves without writing.",
    "",
    "example:",
    "  kiln config menu --srctree /usr/src/linux-source-6.1.tar.xz --arch x86_64 --in guest.config",
  ].join("\n"),
  async run(ctx) {
    const srctree = str(ctx, "srctree");
    const arch = str(ctx, "arch");
    if (!srctree) throw usageError("missing --srctree DIR|TARBALL", `usage: kiln ${command.usage}`);
    if (!arch) throw usageError("missing --arch ARCH", `usage: kiln ${command.usage}`);
    requireTerminal(ctx.stdinIsTTY, process.stdout.isTTY === true, "kiln config menu");
    let inFile = str(ctx, "in");
    if (inFile === undefined && existsSync(resolve(ctx.cwd, ".config"))) inFile = ".config";
    const outFile = str(ctx, "out") ?? inFile ?? ".config";
    const isTarball =
      existsSync(resolve(ctx.cwd, srctree)) && !statSync(resolve(ctx.cwd, srctree)).isDirectory();
    ctx.reporter.info(
      `reading the Kconfig tree of ${srctree} (${arch})${isTarball ? "; a tarball's Kconfig files are extracted into Kiln's cache the first time (about a minute)" : ""}`,
    );
    const session = openLinuxMenu({
      srctree: resolve(ctx.cwd, srctree),
      arch,
      ...(inFile !== undefined ? { inFile: resolve(ctx.cwd, inFile) } : {}),
      outFile: resolve(ctx.cwd, outFile),
      label: outFile,
      ...(str(ctx, "cross-compile") !== undefined ? { crossCompile: str(ctx, "cross-compile") } : {}),
    });
    // interrupts are not claimed: a SIGINT/SIGTERM from outside leaves as any command does (130/143),
    // and the only write, the save, is atomic; Ctrl-C typed in the menu is a key (raw mode), handled there
    return runMenuSession(ctx, session);
  },
};

export default command;
