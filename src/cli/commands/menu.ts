/**
 * `kiln menu [DIR] [-t TARGET]` (alias `kiln menuconfig`): KraftKit's `kraft
 * menu` on Kiln's Kconfig engine for a project target: the target's
 * configuration, entries the Kraftfile sets marked, `s` saves
 * `.config.<target>`, `K` also writes the changed entries into the
 * Kraftfile's `kconfig:`.
 */
import { openTargetMenu } from "../../orchestration/target-menu.js";
import { pickTarget } from "../../orchestration/unikraft-config.js";
import { type CommandDef, str } from "../command.js";
import { requireTerminal, runMenuSession } from "../menu/run.js";
import { kraftfileOption, loadProjectFromArgs } from "../project-options.js";

const command: CommandDef = {
  name: ["menu"],
  summary: "menuconfig for a project target: browse, set, search, see why; save to .config or the Kraftfile",
  usage: "menu [DIR] [-K FILE] [-t TARGET] [-p PLAT] [-m ARCH]",
  maxPositionals: 1,
  options: {
    kraftfile: kraftfileOption("the Kraftfile (default: found in DIR)"),
    target: { type: "string", short: "t", valueName: "TARGET", description: "the target to configure" },
    plat: { type: "string", short: "p", valueName: "PLAT", description: "choose the target by platform" },
    arch: { type: "string", short: "m", valueName: "ARCH", description: "choose the target by architecture" },
  },
  details: [
    "keys: as kiln config menu (arrows, Enter, Space/y/n/m, ? help, w why, / search, z hidden, s save,",
    "q quit), plus K: save and write the entries changed in this session into the Kraftfile's kconfig",
    "(where each is already set, else the target's; comments kept). Entries the Kraftfile sets are",
    "marked [Kraftfile]; their why panel names the line.",
    "",
    "example:",
    "  kiln menu -t helloworld_qemu-x86_64",
  ].join("\n"),
  async run(ctx) {
    requireTerminal(
      ctx.stdinIsTTY,
      process.stdout.isTTY === true,
      "kiln menu",
      "set values without a terminal with: kiln config set SYMBOL=VALUE … -t TARGET [--save]",
    );
    const { project } = await loadProjectFromArgs(ctx);
    const filter = {
      ...(str(ctx, "target") !== undefined ? { name: str(ctx, "target") } : {}),
      ...(str(ctx, "plat") !== undefined ? { platform: str(ctx, "plat") } : {}),
      ...(str(ctx, "arch") !== undefined ? { architecture: str(ctx, "arch") } : {}),
    };
    const target = pickTarget(project, filter);
    const session = await openTargetMenu(project, target, { env: ctx.env, reporter: ctx.reporter });
    return runMenuSession(ctx, session);
  },
};

export default command;
