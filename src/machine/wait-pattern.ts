/**
 * `--wait-for` patterns, matched in linear time. JavaScript's RegExp
 * backtracks: `(a+)+b$` against a console of 46 `a`s runs for hours on the
 * event loop, where no timer (`--timeout`) and no signal handler can run
 * (issue 9). RE2's automaton (through the pure-JS `re2js` port) takes time
 * proportional to the text whatever the pattern, so matching can never block
 * Kiln. The accepted syntax is RE2's (https://github.com/google/re2/wiki/Syntax):
 * JavaScript's usual classes, groups, alternation and repetition, but no
 * backreferences (`\1`) and no lookaround (`(?=…)`, `(?<=…)`). `^` and `$`
 * match at line ends, as with RegExp's `m` flag.
 */
import { RE2JS } from "re2js";
import { usageError } from "../core/errors.js";

/** What the watch loop needs of a pattern (a RegExp has it too). */
export interface ConsolePattern {
  exec(text: string): { index: number; 0: string } | null;
}

/** A compiled `--wait-for` pattern; `toString()` gives `/SOURCE/m` for messages, as a RegExp would. */
export class WaitForPattern implements ConsolePattern {
  private readonly re: RE2JS;

  constructor(readonly source: string) {
    try {
      this.re = RE2JS.compile(source, RE2JS.MULTILINE);
    } catch (e) {
      throw usageError(
        `--wait-for "${source}" is not a regular expression Kiln accepts: ${(e as Error).message}`,
        "Kiln matches with RE2 syntax (linear time): no backreferences or lookaround",
      );
    }
  }

  exec(text: string): { index: number; 0: string } | null {
    const m = this.re.matcher(text);
    if (!m.find()) return null;
    return { index: m.start(), 0: m.group() ?? "" };
  }

  toString(): string {
    return `/${this.source}/m`;
  }
}
