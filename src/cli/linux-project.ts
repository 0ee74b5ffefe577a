/**
 * `kiln build` and `kiln run` on a directory with a Linuxfile (and no
 * Kraftfile): the CLI side of Linux microVM projects. Loaded only when such
 * a file is found, so Unikraft projects pay nothing for it.
 */
import { kilnDirs } from "../core/paths.js";
import { formatBytes, formatDuration } from "../core/units.js";
import {
  buildLinuxProject,
  linuxRunSettings,
  loadLinuxProject,
} from "../orchestration/linux-project/index.js";
import { bool, type CommandContext } from "./command.js";

/** `kiln build DIR` for a Linuxfile: kernel (cached) and root filesystem. */
export async function buildLinuxfile(
  ctx: CommandContext,
  file: string,
  dir: string,
  jobs?: number,
): Promise<number> {
  const started = Date.now();
  const project = await loadLinuxProject(file);
  const r = await buildLinuxProject(project, dir, {
    cacheDir: kilnDirs(ctx.env).cacheDir,
    env: ctx.env,
    reporter: ctx.reporter,
    signal: ctx.signal,
    ...(jobs ? { jobs } : {}),
  });
  if (bool(ctx, "json")) {
    ctx.out(`${JSON.stringify({ project: project.name, ...r }, null, 2)}\n`);
    return 0;
  }
  const k = r.kernelBuild;
  ctx.out(
    [
      `${project.name}: built in ${formatDuration(Date.now() - started)}`,
      `  kernel ${r.kernel}${k ? ` (Linux ${k.version} ${k.arch}, ${k.cached ? "from the cache" : `${k.steps} steps`})` : " (given)"}`,
      `  rootfs ${r.rootfs} (${formatBytes(r.rootfsSizeBytes)})`,
      "",
    ].join("\n"),
  );
  return 0;
}

/** The `kiln run` settings of a built Linuxfile project. */
export async function linuxfileRunSettings(file: string, dir: string) {
  return linuxRunSettings(await loadLinuxProject(file), dir);
}
