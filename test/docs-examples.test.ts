/**
 * The documentation's examples are real command lines: every `kiln …` line in
 * a shell block of README.md and docs/*.md names a command Kiln has and only
 * options that command takes (parsed by the CLI's own argument parser). The
 * examples that can run here are exercised by the e2e tests they cite.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseCommandArgs } from "../src/cli/command.js";
import { COMMANDS } from "../src/cli/commands/index.js";
import { REPO_ROOT } from "./helpers/kiln.js";

/** Shell words of one line, up to the first pipe, `&&`, `;`, redirection or comment. */
function words(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote: string | undefined;
  let depth = 0;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else cur += c;
      continue;
    }
    if (depth > 0) {
      cur += c;
      if (c === "(") depth++;
      if (c === ")") depth--;
      continue;
    }
    if (c === "$" && line[i + 1] === "(") {
      depth = 1;
      cur += "$(";
      i++;
      started = true;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      started = true;
      continue;
    }
    if (/\s/.test(c)) {
      if (started) out.push(cur);
      cur = "";
      started = false;
      continue;
    }
    if ("|;&<>#".includes(c) && !started) break;
    if (c === "#" && !started) break;
    cur += c;
    started = true;
  }
  if (started) out.push(cur);
  // A redirection glued to a word (2>&1) ends the command too.
  const end = out.findIndex((w) => /^\d?[<>]/.test(w));
  return end === -1 ? out : out.slice(0, end);
}

function examples(): { file: string; line: number; text: string }[] {
  const files = [join(REPO_ROOT, "README.md")];
  const docs = join(REPO_ROOT, "docs");
  if (existsSync(docs))
    for (const f of readdirSync(docs).sort()) if (f.endsWith(".md")) files.push(join(docs, f));
  const out: { file: string; line: number; text: string }[] = [];
  for (const file of files) {
    const lines = readFileSync(file, "utf8").split("\n");
    let inShell = false;
    let joined = "";
    let start = 0;
    lines.forEach((l, i) => {
      if (/^```/.test(l)) {
        inShell = /^```(sh|bash|console|shell)\s*$/.test(l);
        return;
      }
      if (!inShell) return;
      const text = l.replace(/^\$ /, "");
      if (joined === "") start = i + 1;
      if (text.endsWith("\\")) {
        joined += `${text.slice(0, -1)} `;
        return;
      }
      joined += text;
      // Synopsis lines: optional groups (` [-a]`, ` [-- app args]`) are dropped, and several commands
      // on one line (separated by wide gaps) are read one by one.
      const synopsis = joined.replace(/\s\[[^\]'"]*\]/g, " ");
      for (const part of synopsis.split(/&&|\|\||;|\s{3,}(?=kiln\b)/)) {
        const w = words(part.trim());
        const k = w.findIndex((x) => x === "kiln" || x.endsWith("/kiln.js"));
        if (k !== -1 && (k === 0 || w[k - 1] === "npx" || /^[A-Z_]+=/.test(w[0]!)))
          out.push({ file, line: start, text: w.slice(k + 1).join("\u0000") });
      }
      joined = "";
    });
  }
  return out;
}

test("every kiln command line in README.md and docs/ names a real command and only its options", async () => {
  const found = examples();
  assert.ok(found.length > 20, `only ${found.length} examples found`);
  const problems: string[] = [];
  for (const ex of found) {
    const argv = ex.text.split("\u0000").filter((w) => w !== "");
    if (argv.length === 0 || argv[0]!.startsWith("-")) continue; // kiln --help, kiln --version
    const entry = [...COMMANDS]
      .sort((a, b) => b.name.length - a.name.length)
      .find((c) => c.name.every((n, i) => argv[i] === n));
    const where = `${ex.file.slice(REPO_ROOT.length + 1)}:${ex.line}`;
    if (!entry) {
      problems.push(`${where}: no command "${argv.slice(0, 2).join(" ")}"`);
      continue;
    }
    const def = (await entry.load()).default;
    try {
      parseCommandArgs(def, argv.slice(entry.name.length));
    } catch (e) {
      problems.push(`${where}: kiln ${argv.join(" ")}: ${(e as Error).message}`);
    }
  }
  assert.deepEqual(problems, []);
});
