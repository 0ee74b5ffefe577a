/**
 * Reading Unikraft's `Config.uk` files just enough to tell what became of a
 * symbol between two releases (pure): each `config`/`menuconfig` entry's
 * name, prompt and help text; and a score for how likely a symbol added in
 * the newer release replaces one that disappeared, from the words of their
 * prompts and help texts and the shape of their names. Nothing here is a
 * hand-kept list of renames: they are derived from the trees themselves.
 */

/** One Kconfig entry of a `Config.uk`. */
export interface ConfigEntry {
  name: string;
  prompt?: string;
  help?: string;
  /** The file it is defined in, relative to the tree. */
  file: string;
}

const ENTRY_RE = /^\s*(?:menu)?config\s+([A-Za-z0-9_]+)\s*$/;
const TYPED_PROMPT_RE = /^\s*(?:bool|tristate|string|int|hex)\s+"((?:[^"\\]|\\.)*)"/;
const PROMPT_RE = /^\s*prompt\s+"((?:[^"\\]|\\.)*)"/;
const HELP_RE = /^\s*(?:---)?\s*help\s*(?:---)?\s*$/;
const KEYWORD_RE =
  /^\s*(?:menu|endmenu|choice|endchoice|if|endif|source|comment|mainmenu|config|menuconfig)\b/;

/** The entries of a `Config.uk` text, in order (a symbol defined twice keeps its first prompt and help). */
export function scanConfigUk(text: string, file: string): ConfigEntry[] {
  const out: ConfigEntry[] = [];
  let cur: ConfigEntry | undefined;
  let inHelp = false;
  let helpIndent = -1;
  const help: string[] = [];
  const endHelp = () => {
    if (cur && inHelp && help.length > 0 && cur.help === undefined) cur.help = help.join(" ").trim();
    inHelp = false;
    helpIndent = -1;
    help.length = 0;
  };
  for (const line of text.split("\n")) {
    if (inHelp) {
      const indent = /^\s*/.exec(line)![0].replace(/\t/g, "        ").length;
      if (line.trim() === "") continue;
      if (helpIndent < 0) helpIndent = indent;
      if (indent >= helpIndent && indent > 0) {
        help.push(line.trim());
        continue;
      }
      endHelp();
    }
    const entry = ENTRY_RE.exec(line);
    if (entry) {
      cur = { name: entry[1]!, file };
      out.push(cur);
      continue;
    }
    if (KEYWORD_RE.test(line)) {
      cur = undefined;
      continue;
    }
    if (!cur) continue;
    const prompt = TYPED_PROMPT_RE.exec(line) ?? PROMPT_RE.exec(line);
    if (prompt && cur.prompt === undefined) cur.prompt = prompt[1];
    else if (HELP_RE.test(line)) inHelp = true;
  }
  endHelp();
  return out;
}

const STOP = new Set([
  "a",
  "an",
  "the",
  "of",
  "for",
  "to",
  "and",
  "or",
  "in",
  "on",
  "is",
  "be",
  "it",
  "this",
  "with",
]);

/** Words of a text, lowercased, stop words dropped, cut to 5 letters (generator ≈ generation). */
function words(text: string | undefined): Set<string> {
  const out = new Set<string>();
  for (const w of (text ?? "").toLowerCase().split(/[^a-z0-9]+/))
    if (w && !STOP.has(w)) out.add(w.slice(0, 5));
  return out;
}

function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let common = 0;
  for (const x of a) if (b.has(x)) common++;
  return common / (a.size + b.size - common);
}

/** Dice coefficient of two names' letter pairs. */
function nameSimilarity(a: string, b: string): number {
  const pairs = (s: string) => {
    const m = new Map<string, number>();
    for (let i = 0; i + 1 < s.length; i++) m.set(s.slice(i, i + 2), (m.get(s.slice(i, i + 2)) ?? 0) + 1);
    return m;
  };
  const pa = pairs(a);
  const pb = pairs(b);
  let common = 0;
  for (const [k, n] of pa) common += Math.min(n, pb.get(k) ?? 0);
  return (2 * common) / Math.max(1, a.length - 1 + (b.length - 1));
}

/** How well `candidate` (new in the newer release) matches `gone` (absent from it), 0 to about 2. */
export function replacementScore(gone: ConfigEntry, candidate: ConfigEntry): number {
  const sameDir =
    gone.file.split("/").slice(0, -1).join("/") === candidate.file.split("/").slice(0, -1).join("/");
  return (
    jaccard(words(gone.prompt), words(candidate.prompt)) +
    0.5 * jaccard(words(gone.help), words(candidate.help)) +
    0.5 * nameSimilarity(gone.name, candidate.name) +
    (sameDir ? 0.1 : 0)
  );
}

/** Below this, no candidate is named as the replacement. */
export const REPLACEMENT_MIN_SCORE = 0.75;

/**
 * The symbol among `added` (defined in the newer release, not the older)
 * that most likely replaces `gone`, or undefined when none scores
 * {@link REPLACEMENT_MIN_SCORE}.
 */
export function findReplacement(gone: ConfigEntry, added: readonly ConfigEntry[]): ConfigEntry | undefined {
  let best: { e: ConfigEntry; score: number } | undefined;
  for (const e of added) {
    const score = replacementScore(gone, e);
    if (!best || score > best.score) best = { e, score };
  }
  return best && best.score >= REPLACEMENT_MIN_SCORE ? best.e : undefined;
}
