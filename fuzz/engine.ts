/**
 * A small mutation fuzzer (no dependencies): seeds and kept fixtures are
 * mutated (bit flips, byte inserts and deletes, interesting bytes, splices of
 * two inputs, repeated slices), each input run through a target. A failure
 * (see targets.ts) is written to `fuzz/fixtures/<target>/<sha256>.bin`, so
 * that every later run, CI included, replays it.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FuzzTarget } from "./targets.js";

export const FIXTURES = join(import.meta.dirname, "fixtures");

/** Deterministic PRNG (mulberry32), so a run is repeatable from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [0, 0x0a, 0x22, 0x27, 0x2c, 0x2e, 0x2f, 0x3a, 0x3d, 0x5c, 0x7f, 0xff, 0x1b, 0x20];

function mutate(input: Buffer, other: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(input);
  const at = (n: number) => Math.floor(rnd() * n);
  switch (at(7)) {
    case 0:
      if (b.length) b[at(b.length)]! ^= 1 << at(8);
      return b;
    case 1:
      if (b.length) b[at(b.length)] = INTERESTING[at(INTERESTING.length)]!;
      return b;
    case 2: {
      const i = at(b.length + 1);
      return Buffer.concat([
        b.subarray(0, i),
        Buffer.from([INTERESTING[at(INTERESTING.length)]!]),
        b.subarray(i),
      ]);
    }
    case 3: {
      const i = at(b.length + 1);
      return Buffer.concat([b.subarray(0, i), b.subarray(i + 1 + at(8))]);
    }
    case 4: {
      const i = at(b.length + 1);
      const j = at(other.length + 1);
      return Buffer.concat([b.subarray(0, i), other.subarray(j)]);
    }
    case 5: {
      const i = at(b.length + 1);
      const n = 1 + at(16);
      const slice = b.subarray(i, i + n);
      return Buffer.concat([b.subarray(0, i), ...Array(1 + at(8)).fill(slice), b.subarray(i)]);
    }
    default:
      return Buffer.from(Array.from({ length: at(64) }, () => at(256)));
  }
}

/** The kept failing inputs of a target (replayed before fuzzing). */
export function fixturesOf(target: string): Buffer[] {
  const dir = join(FIXTURES, target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((f) => readFileSync(join(dir, f)));
}

export interface FuzzFailure {
  target: string;
  input: Buffer;
  error: unknown;
  /** Where it was kept, when `keep` was set. */
  file?: string;
}

/** Run one input; undefined when the target held. */
export async function runOne(target: FuzzTarget, input: Buffer): Promise<unknown> {
  try {
    await target.run(input);
    return undefined;
  } catch (e) {
    return e ?? new Error("thrown undefined");
  }
}

/**
 * Fuzz `target` for `durationMs` (or `maxRuns` inputs). Returns the failures;
 * with `keep`, each is written as a fixture.
 */
export async function fuzzTarget(
  target: FuzzTarget,
  opts: { durationMs: number; seed: number; maxRuns?: number; keep?: boolean },
): Promise<{ runs: number; failures: FuzzFailure[] }> {
  const rnd = prng(opts.seed);
  const corpus = [...target.seeds.map((s) => Buffer.from(s)), ...fixturesOf(target.name)];
  const failures: FuzzFailure[] = [];
  const end = Date.now() + opts.durationMs;
  let runs = 0;
  while (Date.now() < end && runs < (opts.maxRuns ?? Number.POSITIVE_INFINITY)) {
    const base = corpus[Math.floor(rnd() * corpus.length)]!;
    const other = corpus[Math.floor(rnd() * corpus.length)]!;
    let input = base;
    for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) input = mutate(input, other, rnd);
    runs++;
    const error = await runOne(target, input);
    if (error === undefined) {
      if (corpus.length < 512 && rnd() < 0.05) corpus.push(input);
      continue;
    }
    const failure: FuzzFailure = { target: target.name, input, error };
    if (opts.keep) {
      const dir = join(FIXTURES, target.name);
      mkdirSync(dir, { recursive: true });
      failure.file = join(dir, `${createHash("sha256").update(input).digest("hex").slice(0, 16)}.bin`);
      writeFileSync(failure.file, input);
    }
    failures.push(failure);
    if (failures.length >= 5) break;
  }
  return { runs, failures };
}
