/**
 * Why a Kraftfile option that names no symbol of the chosen core did not
 * survive configuration: it was renamed or removed since a release that had
 * it. Derived from the trees: the core's `Config.uk` files as they are now,
 * and (when the core is a git checkout with `RELEASE-x.y.z` tags) as they were
 * at the newest release that still defined the symbol; a symbol added since
 * then whose prompt, help and name match is named as its replacement
 * (`config-uk.ts`). Core 0.17 renamed `LIBUKSWRAND` to `LIBUKRANDOM` and the
 * automount options (`LIBVFSCORE_ROOTFS_INITRD` → `LIBVFSCORE_AUTOMOUNT_CI_INITRD`).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { exec } from "../core/exec.js";
import {
  type ConfigEntry,
  findReplacement,
  REPLACEMENT_MIN_SCORE,
  replacementScore,
  scanConfigUk,
} from "./config-uk.js";
import { compareReleases, parseRelease } from "./sources/resolve.js";

/** Every `Config.uk` entry under `dir` (paths relative to `root`), skipping `.git`. */
function treeEntries(dir: string, root = dir, out: ConfigEntry[] = []): ConfigEntry[] {
  let names: import("node:fs").Dirent[];
  try {
    names = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const d of names) {
    if (d.name === ".git") continue;
    const p = join(dir, d.name);
    if (d.isDirectory()) treeEntries(p, root, out);
    else if (d.isFile() && d.name === "Config.uk")
      out.push(...scanConfigUk(readFileSync(p, "utf8"), relative(root, p)));
  }
  return out;
}

async function git(core: string, args: string[], env: NodeJS.ProcessEnv) {
  return exec(["git", "-C", core, ...args], { env, allowFailure: true });
}

/** How many release tags are searched for a symbol, newest first. */
const MAX_TAGS = 40;

/**
 * For each of `symbols` (`CONFIG_X`) that no `Config.uk` of the core or the
 * libraries defines, a sentence saying so, and what replaced it where that
 * can be derived. Symbols that exist (an unmet dependency) get none.
 */
export async function explainMissingSymbols(
  coreDir: string,
  libraryDirs: readonly string[],
  symbols: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (symbols.length === 0) return out;
  const now = treeEntries(coreDir);
  const defined = new Set([...now, ...libraryDirs.flatMap((d) => treeEntries(d))].map((e) => e.name));
  const absent = symbols.filter((s) => !defined.has(s.replace(/^CONFIG_/, "")));
  if (absent.length === 0) return out;
  const here = (await git(coreDir, ["describe", "--tags", "--exact-match", "HEAD"], env)).stdout.trim();
  const current = here || "this core";
  const tags = (await git(coreDir, ["tag", "--list", "RELEASE-*"], env)).stdout
    .split("\n")
    .map((t) => ({ t: t.trim(), r: parseRelease(t.trim()) }))
    .filter((x): x is { t: string; r: NonNullable<typeof x.r> } => x.r !== undefined && x.t !== here)
    .sort((a, b) => compareReleases(b.r, a.r))
    .slice(0, MAX_TAGS);
  for (const symbol of absent) {
    const name = symbol.replace(/^CONFIG_/, "");
    let found: { tag: string; entry: ConfigEntry } | undefined;
    for (const { t } of tags) {
      const hit = await git(
        coreDir,
        ["grep", "-l", "-E", `^\\s*(menu)?config ${name}\\s*$`, t, "--", "*Config.uk"],
        env,
      );
      const path = hit.stdout.split("\n")[0]?.trim().replace(`${t}:`, "");
      if (hit.exitCode !== 0 || !path) continue;
      const text = (await git(coreDir, ["show", `${t}:${path}`], env)).stdout;
      const entry = scanConfigUk(text, path).find((e) => e.name === name);
      if (entry) found = { tag: t, entry };
      break;
    }
    if (!found) {
      out.set(
        symbol,
        `${symbol} does not exist in ${current}${tags.length > 0 ? " nor in any of its release tags" : ""}`,
      );
      continue;
    }
    const before = new Set(
      (
        await git(
          coreDir,
          ["grep", "-h", "-o", "-E", "^\\s*(menu)?config [A-Za-z0-9_]+", found.tag, "--", "*Config.uk"],
          env,
        )
      ).stdout
        .split("\n")
        .map((l) => l.trim().split(/\s+/)[1])
        .filter((n): n is string => n !== undefined),
    );
    const added = now.filter((e) => !before.has(e.name));
    const best = findReplacement(found.entry, added);
    const where = `${symbol} does not exist in ${current} (${found.tag} defined it in ${found.entry.file})`;
    if (!best) {
      out.set(symbol, `${where}; no symbol added since matches it: it was removed or reworked`);
      continue;
    }
    // Equally good candidates (a choice duplicated for two tables) are all named.
    const top = replacementScore(found.entry, best);
    const alike = added.filter(
      (e) => e !== best && replacementScore(found!.entry, e) >= Math.max(REPLACEMENT_MIN_SCORE, top - 0.05),
    );
    const names = [best, ...alike].map((e) => `CONFIG_${e.name}${e.prompt ? ` ("${e.prompt}")` : ""}`);
    out.set(symbol, `${where}; renamed: use ${names.join(" or ")}`);
  }
  return out;
}
