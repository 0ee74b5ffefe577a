/**
 * What `kiln config menu` and `kiln menu` share around the terminal menu:
 * the terminal check, loading ink with CI markers hidden, and leaving as
 * mconf does (saying whether the configuration was written).
 */
import { KilnError } from "../../core/errors.js";
import { useColor as colorWanted } from "../../core/output.js";
import type { CommandContext } from "../command.js";
import type { TerminalMenuOptions } from "./terminal.js";

/** Refuses to start without a terminal on both ends, naming the non-interactive way. */
export function requireTerminal(
  stdinIsTTY: boolean,
  stdoutIsTTY: boolean,
  what: string,
  hint = "set values without a terminal with: kiln config set SYMBOL=VALUE … --srctree DIR --arch ARCH --in .config",
): void {
  const bad = !stdinIsTTY ? "standard input" : !stdoutIsTTY ? "standard output" : undefined;
  if (!bad) return;
  throw new KilnError(
    "MENU_NOT_A_TERMINAL",
    `${what} is interactive and needs a terminal, but ${bad} is not one`,
    { hint },
  );
}

/**
 * The terminal menu, loaded with CI markers hidden: ink renders only its last
 * frame when it believes it runs in CI (its `is-in-ci` reads `CI`,
 * `CONTINUOUS_INTEGRATION` and `CI_*` once, as it loads), and the menu, which
 * has just checked that both ends are terminals, would show nothing at all.
 */
export async function loadTerminalMenu(): Promise<typeof import("./terminal.js")> {
  const keys = Object.keys(process.env).filter(
    (k) => k === "CI" || k === "CONTINUOUS_INTEGRATION" || k.startsWith("CI_"),
  );
  const saved = keys.map((k) => [k, process.env[k]] as const);
  for (const k of keys) delete process.env[k];
  try {
    return await import("./terminal.js");
  } finally {
    for (const [k, v] of saved) process.env[k] = v;
  }
}

/**
 * Runs a menu session in the terminal; 130 when interrupted (nothing written), 0 otherwise,
 * after mconf's closing line.
 */
export async function runMenuSession(
  ctx: CommandContext,
  session: Pick<TerminalMenuOptions, "state" | "save" | "saveKraftfile">,
): Promise<number> {
  // interrupts are not claimed: a SIGINT/SIGTERM from outside leaves as any command does (130/143),
  // and the only writes, the saves, are atomic; Ctrl-C typed in the menu is a key (raw mode), handled there
  const { runTerminalMenu } = await loadTerminalMenu();
  const outcome = await runTerminalMenu({ ...session, color: colorWanted(process.stdout, ctx.env) });
  if (outcome === "aborted") {
    ctx.reporter.warn("interrupted: the configuration was not saved");
    return 130;
  }
  ctx.out(
    session.state.dirty
      ? "Your configuration changes were NOT saved.\n"
      : "\n*** End of the configuration.\n",
  );
  return 0;
}
