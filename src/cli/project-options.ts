/**
 * What the project commands (`build`, `clean`, `fetch`, `inspect`,
 * `validate`) share: the `[DIR] -K FILE` arguments and reading the project
 * they name. Each command still decides how to report the warnings.
 */
import { resolve } from "node:path";
import { loadProject, type ReadProjectResult, readProject } from "../kraftfile/load.js";
import type { Diagnostic, Project } from "../kraftfile/types.js";
import { type CommandContext, type OptionDef, str } from "./command.js";

/**
 * The `-K FILE` option. `description` keeps each command's own help wording.
 */
export function kraftfileOption(description = "the Kraftfile to read (default: found in DIR)"): OptionDef {
  return { type: "string", short: "K", valueName: "FILE", description };
}

/** The project directory: the DIR argument resolved against the working directory, or the latter. */
export function projectDir(ctx: CommandContext): string {
  return resolve(ctx.cwd, ctx.positionals[0] ?? ".");
}

/** Where to read the project: {@link projectDir}, and `-K FILE` resolved against the working directory. */
function projectLocation(ctx: CommandContext): {
  dir: string;
  opts: { kraftfile?: string; env: NodeJS.ProcessEnv };
} {
  const kf = str(ctx, "kraftfile");
  return { dir: projectDir(ctx), opts: { ...(kf ? { kraftfile: resolve(ctx.cwd, kf) } : {}), env: ctx.env } };
}

/**
 * `loadProject` for the project named by `[DIR] -K FILE`: throws on a
 * Kraftfile with errors (colored when `color`), returns the warnings.
 */
export function loadProjectFromArgs(
  ctx: CommandContext,
  extra: { color?: boolean } = {},
): Promise<{ project: Project; diagnostics: Diagnostic[] }> {
  const { dir, opts } = projectLocation(ctx);
  return loadProject(dir, { ...opts, ...extra });
}

/** `readProject` (every diagnostic, no throw for problems in the file) for `[DIR] -K FILE`. */
export function readProjectFromArgs(ctx: CommandContext): Promise<ReadProjectResult> {
  const { dir, opts } = projectLocation(ctx);
  return readProject(dir, opts);
}
