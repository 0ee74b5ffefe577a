/**
 * `kiln completion bash|zsh|fish`: print a completion script; `kiln
 * completion --list machines|targets|images` prints the names the scripts
 * complete (machines in the store, the current project's targets, image
 * references the cache has pulled).
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { usageError } from "../../core/errors.js";
import { kilnDirs } from "../../core/paths.js";
import { bool, type CommandDef, GLOBAL_OPTIONS, str } from "../command.js";
import { bashCompletion, type CompletionCommand, fishCompletion, zshCompletion } from "../completion.js";
import { COMMANDS } from "./index.js";

async function allCommands(): Promise<CompletionCommand[]> {
  const out: CompletionCommand[] = [];
  for (const c of COMMANDS) {
    const def = (await c.load()).default;
    for (const words of [c.name, ...(c.aliases ?? [])]) {
      out.push({
        words,
        summary: c.summary,
        options: {
          ...def.options,
          ...GLOBAL_OPTIONS,
          help: { type: "boolean", short: "h", description: "show help" },
        },
      });
    }
  }
  return out;
}

/** Names for `--list KIND`; quiet (empty) when there is nothing, as completion must never print errors. */
async function list(kind: string, ctx: Parameters<CommandDef["run"]>[0]): Promise<string[]> {
  if (kind === "machines") {
    const { machines } = await import("../../machine/launch.js");
    return (await machines(ctx.env)).map((m) => m.name);
  }
  if (kind === "targets") {
    const { readProject } = await import("../../kraftfile/load.js");
    const r = await readProject(ctx.cwd, { env: ctx.env }).catch(() => undefined);
    return r?.project?.targets.map((t) => t.name) ?? [];
  }
  if (kind === "images") {
    const names = await readdir(join(kilnDirs(ctx.env).cacheDir, "refs")).catch(() => [] as string[]);
    // Each record is named after `REGISTRY/REPO:REF@PLATFORM` (see pullImage).
    const refs = names
      .filter((n) => n.endsWith(".json"))
      .map((n) => decodeURIComponent(n.slice(0, -5)).replace(/@[^@]*$/, ""));
    return [...new Set(refs)].map((r) => `docker://${r}`);
  }
  throw usageError(`--list ${kind}: one of machines, targets, images`);
}

const command: CommandDef = {
  name: ["completion"],
  summary: "print a shell completion script (bash, zsh, fish)",
  usage: "completion bash|zsh|fish",
  maxPositionals: 1,
  options: {
    list: {
      type: "string",
      valueName: "KIND",
      description: "print machines, targets or images (used by the scripts)",
    },
    json: { type: "boolean", description: "print {ok, shell, script}" },
  },
  details: [
    "examples:",
    "  source <(kiln completion bash)        # in ~/.bashrc",
    "  source <(kiln completion zsh)         # in ~/.zshrc",
    "  kiln completion fish | source         # in ~/.config/fish/config.fish",
  ].join("\n"),
  async run(ctx) {
    const kind = str(ctx, "list");
    if (kind !== undefined) {
      const names = await list(kind, ctx);
      ctx.out(names.map((n) => `${n}\n`).join(""));
      return 0;
    }
    const shell = ctx.positionals[0];
    const gen = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion }[shell ?? ""];
    if (!gen)
      throw usageError(`kiln completion needs a shell: bash, zsh or fish${shell ? `; got "${shell}"` : ""}`);
    const script = gen(await allCommands());
    ctx.out(bool(ctx, "json") ? `${JSON.stringify({ ok: true, shell, script }, null, 2)}\n` : script);
    return 0;
  },
};

export default command;
