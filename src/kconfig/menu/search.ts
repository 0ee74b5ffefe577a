/**
 * `/` search: symbols whose name or prompt matches, as a case-insensitive
 * substring or a regular expression (RE2 through re2js, so a pathological
 * pattern cannot freeze the menu), each with its menu path and value, sorted
 * by name as mconf's search_conf() lists them.
 */
import { RE2JS } from "re2js";
import { KilnError } from "../../core/errors.js";
import type { Config } from "../ops.js";
import type { MenuNode, Sym } from "../types.js";
import { symValue } from "./engine.js";
import { menuPathText } from "./rows.js";

/** One search hit. */
export interface SearchResult {
  symbol: string;
  prompt: string | undefined;
  value: string;
  /** Menu prompts from the top, e.g. `["General setup", "Timers subsystem"]`. */
  path: string[];
  /** The node a jump goes to (the first with a prompt), undefined when the symbol has no prompt. */
  node: MenuNode | undefined;
}

/** Builds the matcher; a bad regular expression is a `KilnError` naming the pattern. */
export function matcher(query: string, regex: boolean): (text: string) => boolean {
  if (!regex) {
    const q = query.toLowerCase();
    return (t) => t.toLowerCase().includes(q);
  }
  try {
    const re = RE2JS.compile(query, RE2JS.CASE_INSENSITIVE);
    return (t) => re.matcher(t).find();
  } catch (e) {
    throw new KilnError(
      "MENU_BAD_REGEX",
      `'${query}' is not a valid regular expression: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

/** Searches every defined symbol by name (without `CONFIG_`) and prompt text. */
export function search(c: Config, query: string, regex: boolean): SearchResult[] {
  const match = matcher(query.replace(/^CONFIG_/i, ""), regex);
  const out: SearchResult[] = [];
  const seen = new Set<Sym>();
  for (const s of c.tree.syms.values()) {
    if (seen.has(s) || s.nodes.length === 0 || s.type === "unknown") continue;
    seen.add(s);
    const prompts = s.nodes.map((n) => n.prompt?.text).filter((p): p is string => !!p);
    if (!match(s.name) && !prompts.some(match)) continue;
    const node = s.nodes.find((n) => n.prompt);
    out.push({
      symbol: s.name,
      prompt: prompts[0],
      value: symValue(c, s),
      path: menuPathText(node ?? (s.nodes[0] as MenuNode)),
      node,
    });
  }
  return out.sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
}
