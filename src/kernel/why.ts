/**
 * Why an option is off, read from the tree's Kconfig files: the
 * `depends on` lines and prompt conditions of the symbol's definitions, with
 * the final value of each symbol they name, e.g.
 * `EROFS_FS: depends on MISC_FILESYSTEMS && BLOCK (MISC_FILESYSTEMS=n)`.
 * A textual reading (no expression evaluation): enough to name the
 * dependency a user has to turn on, which is what `make menuconfig`'s help
 * screen shows too.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/** The `depends on` / `if` conditions of `option`'s definitions in Kconfig text (pure). */
export function dependencyLines(kconfigText: string, option: string): string[] {
  const out: string[] = [];
  const lines = kconfigText.split("\n");
  const head = new RegExp(`^\\s*(?:menu)?config\\s+${option}\\s*$`);
  for (let i = 0; i < lines.length; i++) {
    if (!head.test(lines[i]!)) continue;
    for (let j = i + 1; j < lines.length; j++) {
      const l = lines[j]!.trim();
      if (/^(?:menu)?config\s|^(?:endmenu|endif|menu|if|choice|endchoice|source|comment)\b/.test(l)) break;
      if (/^help\b|^---help---/.test(l)) break;
      const dep = /^depends on\s+(.*)$/.exec(l);
      if (dep) out.push(`depends on ${dep[1]!.trim()}`);
      const cond = /^(?:bool|tristate|string|int|hex|prompt)\s+"[^"]*"\s+if\s+(.*)$/.exec(l);
      if (cond) out.push(`prompt only if ${cond[1]!.trim()}`);
      const noPrompt = /^def_(?:bool|tristate)\s+(.*)$/.exec(l);
      if (noPrompt) out.push(`has no prompt (def_bool ${noPrompt[1]!.trim()}): set only by what selects it`);
    }
  }
  return out;
}

/** The symbols an expression names (`A && (B || !C)` → A, B, C). */
export function expressionSymbols(expr: string): string[] {
  const names = expr.match(/\b[A-Z][A-Z0-9_]+\b/g) ?? [];
  return [...new Set(names.filter((n) => n !== "ARCH"))];
}

async function kconfigFiles(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (e.isDirectory()) {
      if (e.name !== ".git" && e.name !== "Documentation") await kconfigFiles(join(dir, e.name), out);
    } else if (e.name.startsWith("Kconfig")) out.push(join(dir, e.name));
  }
}

/**
 * For each option, why it is off in `values` (the final configuration):
 * its dependency lines with the current value of each symbol they name; an
 * option defined nowhere in the tree is reported as unknown to this kernel.
 */
export async function explainOff(
  treeDir: string,
  options: string[],
  values: Map<string, string>,
): Promise<Map<string, string>> {
  const files: string[] = [];
  await kconfigFiles(treeDir, files);
  const found = new Map<string, string[]>(options.map((o) => [o, []]));
  const defined = new Set<string>();
  await Promise.all(
    files.map(async (f) => {
      const text = await readFile(f, "utf8");
      for (const o of options) {
        if (!text.includes(o)) continue;
        if (new RegExp(`^\\s*(?:menu)?config\\s+${o}\\s*$`, "m").test(text)) defined.add(o);
        found.get(o)!.push(...dependencyLines(text, o));
      }
    }),
  );
  const out = new Map<string, string>();
  for (const o of options) {
    if (!defined.has(o)) {
      out.set(o, "no Kconfig file of this tree defines it (wrong name, or not in this kernel version)");
      continue;
    }
    const deps = [...new Set(found.get(o))];
    if (deps.length === 0) {
      const v = values.get(o) ?? "n";
      out.set(
        o,
        v === "m"
          ? "its dependencies allow =y; the configuration itself chose =m (a module)"
          : `its dependencies are met; the configuration itself has ${v} (or a choice or select overrode it)`,
      );
      continue;
    }
    out.set(
      o,
      deps
        .map((d) => {
          const off = expressionSymbols(d)
            .map((s) => `${s}=${values.get(s) ?? "n"}`)
            .join(", ");
          return off ? `${d} (${off})` : d;
        })
        .join("; "),
    );
  }
  return out;
}
