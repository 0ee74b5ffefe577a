/**
 * Long fuzzing run: `npx tsx fuzz/run.ts [SECONDS_PER_TARGET] [TARGET…]`
 * (default 60 s each, all targets; `FUZZ_SEED` picks the PRNG seed, default
 * the time). Failing inputs are kept under `fuzz/fixtures/<target>/` —
 * commit them once fixed: `test/fuzz.test.ts` replays every fixture in CI.
 */
import { fuzzTarget } from "./engine.js";
import { TARGETS } from "./targets.js";

// Parsers may emit Node warnings (the YAML library does for odd directives): not failures, only noise.
process.removeAllListeners("warning");
const seconds = Number(process.argv[2] ?? "60");
const only = process.argv.slice(3);
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
let failed = 0;
for (const t of TARGETS.filter((t) => only.length === 0 || only.includes(t.name))) {
  const r = await fuzzTarget(t, { durationMs: seconds * 1000, seed, keep: true });
  console.log(`${t.name}: ${r.runs} inputs, ${r.failures.length} failures (seed ${seed})`);
  for (const f of r.failures) {
    failed++;
    console.log(
      `  ${f.file}: ${(f.error as Error)?.stack?.split("\n").slice(0, 3).join(" | ") ?? String(f.error)}`,
    );
  }
}
process.exit(failed ? 1 : 0);
