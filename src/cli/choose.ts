/**
 * Asking on the terminal which of several things to use (`kiln build` and
 * `kiln run` when several targets match), as kraft does. Enter takes the
 * first; an answer that names nothing asks again; end of input (Ctrl-D)
 * cancels.
 */
import { createInterface } from "node:readline/promises";
import { usageError } from "../core/errors.js";

/** How many unusable answers are tolerated before giving up. */
const MAX_ASKS = 3;

/**
 * Print `items` numbered on stderr under `heading`, ask `question`, return the
 * one chosen by number or by name. Throws `USAGE` (naming `hint`) on end of
 * input or after {@link MAX_ASKS} unusable answers.
 */
export async function chooseOnTerminal<T>(
  items: readonly T[],
  opts: {
    heading: string;
    question: string;
    describe: (t: T) => string;
    name: (t: T) => string;
    hint: string;
  },
): Promise<T> {
  const lines = items.map((t, i) => `${i + 1}) ${opts.describe(t)}`);
  process.stderr.write(`${opts.heading}\n${lines.join("\n")}\n`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const closed = new Promise<undefined>((resolve) => rl.once("close", () => resolve(undefined)));
  try {
    let last = "";
    for (let i = 0; i < MAX_ASKS; i++) {
      const answer = await Promise.race([
        rl.question(`${opts.question} [1-${items.length}, Enter: 1] `),
        closed,
      ]);
      if (answer === undefined) throw usageError("no target chosen (end of input)", opts.hint);
      last = answer.trim();
      if (last === "") return items[0]!;
      const n = Number(last);
      const picked = Number.isInteger(n) ? items[n - 1] : items.find((t) => opts.name(t) === last);
      if (picked !== undefined) return picked;
      process.stderr.write(`"${last}" is not one of 1-${items.length} or a target name\n`);
    }
    throw usageError(`no target "${last}"`, opts.hint);
  } finally {
    rl.close();
  }
}
