/**
 * Benchmark: time from command start to a guest console marker, for the same
 * kernel (Debian's stock `/boot/vmlinuz-*`) and the same initrd (busybox +
 * `examples/hello-linux/init`, which prints "hello from …"):
 *
 *  1. `kiln run KERNEL --initrd CPIO -a quiet --wait-for 'hello from'`
 *     (the built CLI, `bin/kiln.js` → the bundle, as users run it; `-W`: TCG, as the hand-tuned
 *     lines, since this host's KVM is PVM-only and hangs ordinary guests after the firmware);
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
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { packCpio } from "../../src/image/cpio/index.js";
import { bootQemuUntil, debianKernel, prepareLinuxRootfs } from "../../test/helpers/guests.js";
import { report } from "../common/report.js";

const repo = resolve(import.meta.dirname, "../..");
let MARKER = /hello from/;
const found = debianKernel();
if (!found.kernel) {
  console.error(`bench:boot needs Debian's kernel: ${found.skip}`);
  report({ work: "boot Linux to a console marker (TCG)", skip: `needs Debian's kernel: ${found.skip}` });
  process.exit(0);
}
const kernel = found.kernel;
const cli = join(repo, "bin/kiln.js");
if (!existsSync(join(repo, "dist/cli/main.js"))) {
  console.error("bench:boot runs the built CLI: run `npm run build` first");
  process.exit(1);
}
const work = mkdtempSync(join(tmpdir(), "kiln-bench-boot-"));
const rootfs = join(work, "rootfs");
prepareLinuxRootfs(rootfs, kernel);
const initrd = join(work, "initrd.cpio");
await packCpio({ sourceDir: rootfs, output: initrd });
const append = "console=ttyS0 panic=-1 quiet";
const memory = "256M";

/** Run argv; resolve with ms from spawn to the first console marker, once the process has ended. */
async function timeToMarker(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // Kiln stops its VM itself (--wait-for); a bare QEMU is killed.
  const r = await bootQemuUntil(argv, MARKER, 180_000, { env, killOnMarker: argv[1] !== cli });
  if (r.markerMs === undefined) throw new Error(`no marker from: ${argv.join(" ")}\n${r.out.slice(-4096)}`);
  return r.markerMs;
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
/** The hand-tuned line; by default the Linux guest (`boot`: what follows `-kernel K`). */
const tuned = (machine: string, k = kernel, mem = memory, boot = ["-initrd", initrd, "-append", append]) => [
  "qemu-system-x86_64",
  "-M",
  machine,
  "-accel",
  "tcg",
  "-cpu",
  "max",
  "-m",
  mem,
  "-nodefaults",
  "-no-user-config",
  "-nographic",
  "-serial",
  "stdio",
  "-no-reboot",
  "-kernel",
  k,
  ...boot,
];
const home = join(work, "kiln-home");
const kiln = [
  process.execPath,
  cli,
  "run",
  "-W",
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
  report({
    work: "boot Linux + busybox initrd to a console marker (TCG)",
    reference: "hand-tuned qemu-system-x86_64 line",
    refS: best / 1000,
    kilnS: results.kiln! / 1000,
    target: "≤ 1.15×",
    met: results.kiln! / best <= 1.15,
    note: "one run each after a warm-up",
  });
  const uk = process.env.KILN_BENCH_UNIKRAFT_KERNEL;
  if (uk) {
    // app-helloworld prints "Hello world!", Kiln's example "Hello from a Kiln-built Unikraft unikernel!".
    MARKER = /Hello (world|from a Kiln-built Unikraft unikernel)!/;
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
    const ukTuned = tuned("pc", uk, "64M", []);
    const ukKiln = [
      process.execPath,
      cli,
      "run",
      "-W",
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
    report({
      work: "boot a Unikraft helloworld to its greeting (TCG)",
      reference: "hand-tuned qemu-system-x86_64 line",
      refS: tu / 1000,
      kilnS: k / 1000,
      target: "≤ 1.15×",
      met: k / tu <= 1.15,
      note: "one run each after a warm-up",
    });
  } else {
    report({
      work: "boot a Unikraft helloworld to its greeting (TCG)",
      skip: "KILN_BENCH_UNIKRAFT_KERNEL is unset (a qemu/x86_64 image `kiln build` made)",
    });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
