/**
 * Benchmark: time from command start to a guest console marker, for the same
 * kernel (Debian's stock `/boot/vmlinuz-*`) and the same initrd (busybox +
 * `examples/hello-linux/init`, which prints "hello from …"):
 *
 *  1. `kiln run KERNEL --initrd CPIO -a quiet --wait-for 'hello from'`
 *     (the built CLI, `dist/cli/main.js`, as users run it; KVM probe included);
 *  2. the seed tutorial's hand-written line (`-kernel -nographic -m -append
 *     -initrd -cpu max`, given the same kernel arguments and memory);
 *  3. the fastest hand-tuned line found (`-nodefaults -no-user-config`, serial
 *     on stdio, `-M pc` or `q35`, TCG).
 *
 * One untimed warm-up boot (page cache), then one timed run each. Prints the
 * times and the ratios; target: Kiln ≤ 1.15× the hand-tuned line.
 *
 * With KILN_BENCH_UNIKRAFT_KERNEL=<a Unikraft qemu/x86_64 image> (e.g. one
 * `kiln build` made), the same three are timed to its "Hello world!".
 *
 *   npm run build && npm run bench:boot
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { packCpio } from "../../src/image/cpio/index.js";

const repo = resolve(import.meta.dirname, "../..");
let MARKER = /hello from/;
const kname = readdirSync("/boot")
  .filter((f) => /^vmlinuz-.*-amd64$/.test(f))
  .sort()
  .pop();
if (!kname) {
  console.error("bench:boot needs /boot/vmlinuz-*-amd64 (apt-get install linux-image-amd64)");
  process.exit(1);
}
const kernel = join("/boot", kname);
const cli = join(repo, "dist/cli/main.js");
if (!existsSync(cli)) {
  console.error("bench:boot runs the built CLI: run `npm run build` first");
  process.exit(1);
}
const work = mkdtempSync(join(tmpdir(), "kiln-bench-boot-"));
const rootfs = join(work, "rootfs");
execFileSync("sh", [join(repo, "examples/hello-linux/prepare.sh"), rootfs, kernel]);
const initrd = join(work, "initrd.cpio");
await packCpio({ sourceDir: rootfs, output: initrd });
const append = "console=ttyS0 panic=-1 quiet";
const memory = "256M";

/** Run argv; resolve with ms from spawn to the first console marker, then end the process. */
function timeToMarker(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((res, rej) => {
    const started = process.hrtime.bigint();
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ["ignore", "pipe", "pipe"] });
    let seen = "";
    let at: number | undefined;
    const timer = setTimeout(() => child.kill("SIGKILL"), 180_000);
    const onData = (c: Buffer) => {
      seen = (seen + c.toString("latin1")).slice(-4096);
      if (at === undefined && MARKER.test(seen)) {
        at = Number(process.hrtime.bigint() - started) / 1e6;
        // Kiln stops its VM itself (--wait-for); a bare QEMU is killed.
        if (!argv[1]?.endsWith("main.js")) child.kill("SIGKILL");
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("close", () => {
      clearTimeout(timer);
      if (at === undefined) rej(new Error(`no marker from: ${argv.join(" ")}\n${seen}`));
      else res(at);
    });
  });
}

const seed = [
  "qemu-system-x86_64",
  "-kernel",
  kernel,
  "-nographic",
  "-m",
  memory,
  "-append",
  append,
  "-initrd",
  initrd,
  "-cpu",
  "max",
];
const tuned = (machine: string) => [
  "qemu-system-x86_64",
  "-M",
  machine,
  "-accel",
  "tcg",
  "-cpu",
  "max",
  "-m",
  memory,
  "-nodefaults",
  "-no-user-config",
  "-nographic",
  "-serial",
  "stdio",
  "-no-reboot",
  "-kernel",
  kernel,
  "-initrd",
  initrd,
  "-append",
  append,
];
const home = join(work, "kiln-home");
const kiln = [
  process.execPath,
  cli,
  "run",
  "--rm",
  kernel,
  "--initrd",
  initrd,
  "-M",
  memory,
  "-a",
  "quiet",
  "--network",
  "none",
  "--wait-for",
  MARKER.source,
];

try {
  await timeToMarker(tuned("pc")); // warm-up: kernel and initrd in the page cache
  const results: Record<string, number> = {};
  results.kiln = await timeToMarker(kiln, { ...process.env, KILN_HOME: home, NO_COLOR: "1" });
  results.seed = await timeToMarker(seed);
  results["tuned -M pc"] = await timeToMarker(tuned("pc"));
  results["tuned -M q35"] = await timeToMarker(tuned("q35"));
  const best = Math.min(results["tuned -M pc"]!, results["tuned -M q35"]!);
  console.log(`kernel ${kernel}, initrd ${initrd} (busybox), marker ${MARKER}, TCG, one run each`);
  for (const [k, v] of Object.entries(results)) console.log(`  ${k.padEnd(14)} ${(v / 1000).toFixed(2)} s`);
  console.log(`kiln / hand-tuned: ${(results.kiln! / best).toFixed(2)}x (target <= 1.15x)`);
  console.log(`kiln / seed line:  ${(results.kiln! / results.seed!).toFixed(2)}x`);
  const uk = process.env.KILN_BENCH_UNIKRAFT_KERNEL;
  if (uk) {
    MARKER = /Hello world!/;
    const ukSeed = [
      "qemu-system-x86_64",
      "-kernel",
      uk,
      "-nographic",
      "-m",
      "64M",
      "-append",
      "",
      "-cpu",
      "max",
    ];
    const ukTuned = [
      "qemu-system-x86_64",
      "-M",
      "pc",
      "-accel",
      "tcg",
      "-cpu",
      "max",
      "-m",
      "64M",
      "-nodefaults",
      "-no-user-config",
      "-nographic",
      "-serial",
      "stdio",
      "-no-reboot",
      "-kernel",
      uk,
    ];
    const ukKiln = [
      process.execPath,
      cli,
      "run",
      "--rm",
      uk,
      "--network",
      "none",
      "--wait-for",
      MARKER.source,
    ];
    await timeToMarker(ukTuned);
    const k = await timeToMarker(ukKiln, { ...process.env, KILN_HOME: home, NO_COLOR: "1" });
    const sd = await timeToMarker(ukSeed);
    const tu = await timeToMarker(ukTuned);
    console.log(`Unikraft ${uk}, marker ${MARKER}:`);
    console.log(
      `  kiln ${(k / 1000).toFixed(2)} s, seed ${(sd / 1000).toFixed(2)} s, tuned -M pc ${(tu / 1000).toFixed(2)} s`,
    );
    console.log(`  kiln / hand-tuned: ${(k / tu).toFixed(2)}x, seed / hand-tuned: ${(sd / tu).toFixed(2)}x`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
