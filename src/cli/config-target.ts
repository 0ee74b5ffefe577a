/**
 * `kiln config VERB -t TARGET [DIR]`: the config verbs on a project target
 * (src/orchestration/target-config.ts), printing what `kiln config` prints
 * for a Linux tree plus the Kraftfile's part (which entry set a symbol, what
 * --save wrote, which entries did not survive).
 */
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { formatWhy } from "../kconfig/explain.js";
import type { ConfigVerb } from "../kconfig/linux-config.js";
import { loadProject } from "../kraftfile/load.js";
import { runTargetConfig } from "../orchestration/target-config.js";
import { pickTarget } from "../orchestration/unikraft-config.js";
import { bool, type CommandContext, str } from "./command.js";

/**
 * The trailing positional is the project directory when it is an existing
 * directory and does not look like a symbol (`UPPER_CASE`) or an assignment.
 */
export function splitDirArg(cwd: string, args: string[]): { dir: string; args: string[] } {
  const last = args[args.length - 1];
  if (last !== undefined && !/^(CONFIG_)?[A-Z0-9_]+$/.test(last) && !last.includes("=")) {
    const p = resolve(cwd, last);
    if (existsSync(p) && statSync(p).isDirectory()) return { dir: p, args: args.slice(0, -1) };
  }
  return { dir: cwd, args };
}

/** Runs a target-mode `kiln config` verb; returns the exit code. */
export async function runTargetConfigCommand(
  ctx: CommandContext,
  verb: ConfigVerb,
  rest: string[],
): Promise<number | undefined> {
  const { dir, args } = splitDirArg(ctx.cwd, rest);
  const kf = str(ctx, "kraftfile");
  const { project } = await loadProject(dir, {
    ...(kf ? { kraftfile: resolve(ctx.cwd, kf) } : {}),
    env: ctx.env,
  });
  const name = str(ctx, "target");
  const target = pickTarget(project, name !== undefined ? { name } : {});
  const out = str(ctx, "out");
  const r = await runTargetConfig(
    project,
    target,
    {
      verb,
      args,
      ...(bool(ctx, "save") ? { save: true } : {}),
      ...(out ? { out: resolve(ctx.cwd, out) } : {}),
    },
    { env: ctx.env, reporter: ctx.reporter },
  );
  for (const w of r.readWarnings) ctx.reporter.warn(w);
  for (const d of r.dropped) {
    const at = d.line !== undefined ? ` (Kraftfile line ${d.line})` : "";
    ctx.reporter.warn(`${d.name}=${d.requested} dropped: ${d.reason}${at}`);
  }
  const refused = r.set && r.set.refused.length > 0 ? 1 : undefined;
  if (bool(ctx, "json")) {
    ctx.out(`${JSON.stringify({ verb, ...r }, null, 2)}\n`);
    return refused;
  }
  if (r.why) {
    ctx.out(`${formatWhy(r.why).join("\n")}\n`);
    const k = r.why.kraftfile;
    if (k)
      ctx.out(
        `  set by the Kraftfile: ${k.origin} = ${k.value}${k.line !== undefined ? ` (line ${k.line})` : ""}\n`,
      );
  }
  if (r.set) {
    for (const a of r.set.applied) ctx.out(`set ${a.symbol}=${a.value}\n`);
    for (const f of r.set.refused) ctx.out(`refused ${f.symbol}=${f.requested}: ${f.reason}\n`);
    for (const c of r.set.changes) ctx.out(`  changed ${c.symbol}: ${c.from} → ${c.to}\n`);
  }
  for (const s of r.saved ?? []) {
    for (const [k, v] of Object.entries(s.entries))
      ctx.out(`saved ${v === null ? `removal of ${k}` : `${k}=${v}`} in ${s.file} (${s.scope})\n`);
  }
  if (r.out) ctx.reporter.info(`configuration written to ${r.out}`);
  return refused;
}
