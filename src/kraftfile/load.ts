/**
 * Finding and reading a project's Kraftfile from disk: the I/O around the
 * pure {@link parseKraftfile}.
 */

import { statSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { errnoCode, KilnError } from "../core/errors.js";
import { countSummary, formatDiagnostic } from "./diagnostics.js";
import { parseKraftfile } from "./parse.js";
import type { Diagnostic, Project } from "./types.js";

/** The names KraftKit looks for in a project directory, in the order tried. */
export const KRAFTFILE_NAMES = [
  "Kraftfile",
  "Kraftfile.yaml",
  "Kraftfile.yml",
  "kraft.yaml",
  "kraft.yml",
] as const;

async function kind(path: string): Promise<"file" | "dir" | undefined> {
  try {
    const st = await stat(path);
    return st.isDirectory() ? "dir" : "file";
  } catch (e) {
    if (errnoCode(e) === "ENOENT" || errnoCode(e) === "ENOTDIR") return undefined;
    throw new KilnError("KRAFTFILE_UNREADABLE", `cannot read ${path}: ${(e as Error).message}`, {
      cause: e,
      hint: "check the permissions of the path and its directories",
    });
  }
}

/**
 * Find the Kraftfile in `dir` (Kraftfile, Kraftfile.yaml|.yml, kraft.yaml|.yml)
 * or use `kraftfile` (`-K`, relative to the current directory). `dir` may
 * itself name a file. Throws `KRAFTFILE_NOT_FOUND` naming the names tried.
 */
export async function findKraftfile(dir: string, kraftfile?: string): Promise<string> {
  if (kraftfile !== undefined) {
    const file = resolve(kraftfile);
    const k = await kind(file);
    if (k === "file") return file;
    throw new KilnError(
      "KRAFTFILE_NOT_FOUND",
      k === "dir" ? `-K must name a file, got the directory ${file}` : `Kraftfile ${file} does not exist`,
      {
        hint:
          k === "dir"
            ? `to read the project in that directory: kiln validate ${kraftfile}`
            : `check the path (-K is relative to the current directory); without -K, Kiln looks in DIR for ${KRAFTFILE_NAMES.join(", ")}`,
      },
    );
  }
  const base = resolve(dir);
  const k = await kind(base);
  if (k === "file") return base;
  if (k === undefined) {
    throw new KilnError("KRAFTFILE_NOT_FOUND", `project directory ${base} does not exist`, {
      hint: "give the directory holding the Kraftfile, or the file itself with -K",
    });
  }
  for (const name of KRAFTFILE_NAMES) {
    const candidate = join(base, name);
    if ((await kind(candidate)) === "file") return candidate;
  }
  throw new KilnError(
    "KRAFTFILE_NOT_FOUND",
    `no Kraftfile in ${base} (tried ${KRAFTFILE_NAMES.join(", ")})`,
    {
      hint: "run in a project directory, give its path, or name the file with -K FILE",
    },
  );
}

export interface ReadProjectResult {
  /** Absolute path of the Kraftfile read. */
  file: string;
  /** Present when the file has no errors. */
  project?: Project;
  diagnostics: Diagnostic[];
}

/**
 * Find, read and parse a project, returning all diagnostics without throwing
 * for problems inside the file (what `kiln validate` reports). Throws only
 * when no Kraftfile can be found or read.
 */
export async function readProject(
  dirOrFile: string,
  opts: { kraftfile?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ReadProjectResult> {
  const file = await findKraftfile(dirOrFile, opts.kraftfile);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new KilnError("KRAFTFILE_UNREADABLE", `cannot read ${file}: ${(e as Error).message}`, {
      cause: e,
      hint: "check that the file is readable by you (ls -l)",
    });
  }
  // TextDecoder (non-fatal) turns invalid UTF-8 into U+FFFD, which the parser reports as junk.
  const text = new TextDecoder("utf-8", { fatal: false, ignoreBOM: false }).decode(bytes);
  const result = parseKraftfile(text, file, {
    env: opts.env ?? process.env,
    isDirectory: (p) => {
      try {
        return statSync(p).isDirectory();
      } catch {
        return false;
      }
    },
  });
  return { file, ...result };
}

/**
 * Find + read + parse. Throws `KRAFTFILE_INVALID` whose `details` are all
 * formatted error diagnostics (the message says how many); returns the
 * project with its warnings.
 */
export async function loadProject(
  dirOrFile: string,
  opts: { kraftfile?: string; env?: NodeJS.ProcessEnv; color?: boolean } = {},
): Promise<{ project: Project; diagnostics: Diagnostic[] }> {
  const r = await readProject(dirOrFile, opts);
  if (!r.project) throw invalidProjectError(r, { color: opts.color === true });
  return { project: r.project, diagnostics: r.diagnostics };
}

/**
 * The `KRAFTFILE_INVALID` error for a read that found errors: the message
 * counts them, `details` are the formatted error diagnostics.
 */
export function invalidProjectError(r: ReadProjectResult, opts: { color?: boolean } = {}): KilnError {
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  return new KilnError("KRAFTFILE_INVALID", `${r.file} is not a valid Kraftfile: ${countSummary(errors)}`, {
    details: errors.map((d) => formatDiagnostic(d, { color: opts.color === true })),
    hint: `fix the problems above; \`kiln validate ${r.file}\` also lists warnings`,
  });
}

/**
 * The one JSON document `validate --json` and `inspect --json` print when
 * they fail: `{ok: false, file, diagnostics}` for a Kraftfile with errors,
 * `{ok: false, error: {code, message, hint}}` when none could be read.
 */
export function failureDocument(
  failure: { read: ReadProjectResult } | { error: KilnError },
): Record<string, unknown> {
  if ("read" in failure) {
    return { ok: false, file: failure.read.file, diagnostics: failure.read.diagnostics };
  }
  const e = failure.error;
  return { ok: false, error: { code: e.code, message: e.message, hint: e.hint ?? null } };
}
