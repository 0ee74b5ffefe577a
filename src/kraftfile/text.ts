/**
 * Small text transforms a Kraftfile's values go through: `${VAR}`
 * interpolation (as docker-compose does it) and splitting a `cmd:` string
 * into words (as a POSIX shell does, which is what KraftKit's go-shellwords
 * does for `cmd:` strings).
 */

/** A problem found while transforming, at a character index of the input. */
export interface TextProblem {
  index: number;
  message: string;
  hint?: string;
}

export interface InterpolationResult {
  value: string;
  /** Variables that were unset and had no default (they became ""). */
  unset: { name: string; index: number }[];
  error?: TextProblem;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Replace `${VAR}` and `${VAR:-default}` from `env`; `$$` is a literal `$`
 * (docker-compose's escape). A bare `$NAME` is left as written, so commands
 * such as `sh -c 'echo $HOME'` keep working. As in docker-compose, an unset variable without a default
 * becomes the empty string (the caller warns), and `:-` also applies when the
 * variable is set but empty.
 */
export function interpolate(text: string, env: Record<string, string | undefined>): InterpolationResult {
  let value = "";
  const unset: InterpolationResult["unset"] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c !== "$") {
      value += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === "$") {
      value += "$";
      i += 2;
      continue;
    }
    if (next === "{") {
      const close = text.indexOf("}", i + 2);
      if (close === -1) {
        return {
          value,
          unset,
          error: {
            index: i,
            message: `unterminated variable reference \`${text.slice(i)}\`: \`\${\` needs a closing \`}\``,
            // biome-ignore lint/suspicious/noTemplateCurlyInString: the syntax shown to the user
            hint: "write `${NAME}` or `${NAME:-default}`; a literal dollar sign is `$$`",
          },
        };
      }
      const body = text.slice(i + 2, close);
      const sep = body.indexOf(":-");
      const name = sep === -1 ? body : body.slice(0, sep);
      if (!NAME.test(name)) {
        return {
          value,
          unset,
          error: {
            index: i,
            message: `invalid variable reference \`\${${body}}\`: \`${name}\` is not a variable name`,
            // biome-ignore lint/suspicious/noTemplateCurlyInString: the syntax shown to the user
            hint: "names are letters, digits and `_`; defaults are written `${NAME:-default}`",
          },
        };
      }
      const v = env[name];
      if (sep !== -1) value += v === undefined || v === "" ? body.slice(sep + 2) : v;
      else if (v === undefined) unset.push({ name, index: i });
      else value += v;
      i = close + 1;
      continue;
    }
    value += c;
    i++;
  }
  return { value, unset };
}

/**
 * Split a command line into words as a POSIX shell would, without
 * expansions: whitespace separates words, single quotes keep everything,
 * double quotes keep everything but `\"`, `\\`, `\$` and `` \` ``, and a
 * backslash outside quotes escapes the next character.
 */
export function splitShellWords(text: string): { words: string[]; error?: TextProblem } {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === " " || c === "\t" || c === "\n") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end === -1) return { words, error: unterminated(i, "'") };
      word += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= text.length) return { words, error: unterminated(i, '"') };
        const d = text[j]!;
        if (d === '"') break;
        if (d === "\\" && j + 1 < text.length && '"\\$`'.includes(text[j + 1]!)) {
          word += text[j + 1];
          j += 2;
        } else {
          word += d;
          j++;
        }
      }
      inWord = true;
      i = j + 1;
    } else if (c === "\\") {
      if (i + 1 >= text.length) {
        return { words, error: { index: i, message: "a trailing backslash escapes nothing" } };
      }
      // Backslash-newline is a line continuation in a shell.
      if (text[i + 1] !== "\n") {
        word += text[i + 1];
        inWord = true;
      }
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return { words };
}

function unterminated(index: number, quote: string): TextProblem {
  return {
    index,
    message: `unterminated ${quote === "'" ? "single" : "double"} quote in command`,
    hint: `close the ${quote} or write the command as a list: cmd: ["prog", "arg"]`,
  };
}
