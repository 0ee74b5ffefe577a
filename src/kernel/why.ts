/**
 * Why an option is off, read from the tree's Kconfig files: the conditions
 * on the symbol's definitions (its own `depends on` lines and prompt `if`s,
 * plus the enclosing `if` blocks and `menu ... depends on` of the files that
 * `source` it, as Kconfig inherits them) with the final value of each
 * symbol they name, e.g.
 * `EROFS_FS: if MISC_FILESYSTEMS (MISC_FILESYSTEMS=n); depends on BLOCK (BLOCK=y)`.
 * A textual reading without evaluating expressions: enough to name the
 * dependency a user has to turn on, which is what `make menuconfig`'s help
 * screen shows too.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { KernelArch } from "./types.js";

/** Conditions found for each wanted symbol, and which of them are defined at all. */
export interface KconfigScan {
  conditions: Map<string, string[]>;
  defined: Set<string>;
}

/** What `source` reads next (pure). */
export type KconfigLoader = (relPath: string) => Promise<string | undefined>;

/**
 * Walk the Kconfig tree from `top`, following `source` lines with the
 * enclosing conditions, and collect the conditions of `wanted` symbols.
 */
export async function scanKconfig(
  load: KconfigLoader,
  top: string,
  wanted: readonly string[],
  srcarch: string,
): Promise<KconfigScan> {
  const want = new Set(wanted);
  const conditions = new Map<string, string[]>(wanted.map((w) => [w, []]));
  const defined = new Set<string>();
  const seen = new Set<string>();
  const walk = async (rel: string, inherited: string[]): Promise<void> => {
    const path = rel.replace(/\$\(SRCARCH\)|\$SRCARCH/g, srcarch);
    if (seen.has(path)) return;
    seen.add(path);
    const text = await load(path);
    if (text === undefined) return;
    // Each open `if`/`menu` holds its condition ("" for a menu without one).
    const stack: string[] = [];
    let current: string | undefined; // the wanted symbol whose entry is being read
    let inMenuHead = false;
    const lines = text.split("\n");
    for (const raw of lines) {
      const l = raw.trim();
      const entry = /^(?:menu)?config\s+([A-Za-z0-9_]+)$/.exec(l);
      if (entry) {
        inMenuHead = false;
        current = want.has(entry[1]!) ? entry[1]! : undefined;
        if (current) {
          defined.add(current);
          const outer = [...inherited, ...stack].filter((c) => c !== "");
          conditions.get(current)!.push(...outer.map((c) => `inside ${c}`));
        }
        continue;
      }
      const src = /^(?:source|rsource|osource)\s+"([^"]+)"/.exec(l);
      if (src) {
        current = undefined;
        await walk(src[1]!, [...inherited, ...stack.filter((c) => c !== "")]);
        continue;
      }
      const ifLine = /^if\s+(.+)$/.exec(l);
      if (ifLine) {
        current = undefined;
        stack.push(`if ${ifLine[1]!.replace(/\s+#.*$/, "")}`);
        continue;
      }
      if (/^menu\s+"/.test(l)) {
        current = undefined;
        stack.push("");
        inMenuHead = true;
        continue;
      }
      if (/^(?:endif|endmenu)\b/.test(l)) {
        current = undefined;
        stack.pop();
        continue;
      }
      if (/^(?:choice|endchoice|comment|mainmenu)\b/.test(l)) {
        current = undefined;
        inMenuHead = false;
        continue;
      }
      if (/^help\b|^---help---/.test(l)) {
        current = undefined;
        inMenuHead = false;
        continue;
      }
      const dep = /^depends on\s+(.*)$/.exec(l);
      if (dep && inMenuHead && stack.length > 0) {
        stack[stack.length - 1] = `menu depending on ${dep[1]!.trim()}`;
        continue;
      }
      if (!current) continue;
      if (dep) conditions.get(current)!.push(`depends on ${dep[1]!.trim()}`);
      const cond = /^(?:bool|tristate|string|int|hex|prompt)\s+"[^"]*"\s+if\s+(.*)$/.exec(l);
      if (cond) conditions.get(current)!.push(`prompt only if ${cond[1]!.trim()}`);
      const noPrompt = /^def_(?:bool|tristate)\s+(.*)$/.exec(l);
      if (noPrompt)
        conditions
          .get(current)!
          .push(`has no prompt (def_bool ${noPrompt[1]!.trim()}): only what selects it sets it`);
    }
  };
  await walk(top, []);
  return { conditions, defined };
}

/** The symbols an expression names (`A && (B || !C)` → A, B, C). */
export function expressionSymbols(expr: string): string[] {
  const names = expr.match(/\b[A-Z][A-Z0-9_]+\b/g) ?? [];
  return [...new Set(names.filter((n) => n !== "ARCH"))];
}

/** Explanations from a scan and the final values (pure). */
export function explainFromScan(
  scan: KconfigScan,
  options: string[],
  values: Map<string, string>,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const o of options) {
    if (!scan.defined.has(o)) {
      out.set(o, "no Kconfig file of this tree defines it (wrong name, or not in this kernel version)");
      continue;
    }
    const conds = [...new Set(scan.conditions.get(o))];
    const v = values.get(o) ?? "n";
    const shown = conds.map((d) => {
      const syms = expressionSymbols(
        d.replace(/^(inside |menu depending on |depends on |prompt only if |if )+/, ""),
      )
        .map((s) => `${s}=${values.get(s) ?? "n"}`)
        .join(", ");
      return syms ? `${d} (${syms})` : d;
    });
    if (shown.length === 0) {
      out.set(
        o,
        v === "m"
          ? "nothing stops =y; the configuration itself chose =m (a module)"
          : `nothing in its definition stops it; the configuration has ${v} (or a choice or select overrode it)`,
      );
    } else {
      out.set(o, `${shown.join("; ")}${v === "m" ? "; the configuration chose =m (a module)" : ""}`);
    }
  }
  return out;
}

/** For each option, why it has its value in `values`, from the Kconfig tree at `treeDir`. */
export async function explainOff(
  treeDir: string,
  options: string[],
  values: Map<string, string>,
  arch: KernelArch = "x86_64",
): Promise<Map<string, string>> {
  const load: KconfigLoader = (rel) => readFile(join(treeDir, rel), "utf8").catch(() => undefined);
  const scan = await scanKconfig(load, "Kconfig", options, arch === "x86_64" ? "x86" : arch);
  return explainFromScan(scan, options, values);
}
