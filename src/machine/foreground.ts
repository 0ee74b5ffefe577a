/**
 * Starting a planned run and attaching to it: launch (packing `--initrd DIR`
 * on the way), then, in the foreground, stream the console, forward input
 * (raw mode and the escape keys of `console.ts` on a terminal), stop the VM on
 * Ctrl-C or a closed terminal, wait for `--wait-for`/`--timeout`, and map the
 * outcome to an exit status.
 */

import { join } from "node:path";
import { ExitCode, KilnError } from "../core/errors.js";
import type { Reporter } from "../core/output.js";
import {
  CONSOLE_QUIET_MS,
  type ConsoleAction,
  connectConsole,
  endsWithPrompt,
  escapeFilter,
  FIRMWARE_ONLY_NOTICE_MS,
  followFile,
  looksReadyWhenQuiet,
  PROMPT_SETTLE_MS,
  printedOnlyFirmware,
} from "./console.js";
import type { MachineSpec, StartedMachine } from "./driver.js";
import {
  createMachine,
  type Launched,
  launchMachine,
  removeMachine,
  stopMachine,
  watchMachine,
} from "./launch.js";
import type { RunPlan } from "./run-plan-types.js";
import type { ConsolePattern } from "./wait-pattern.js";

/** Where a run's output goes and what interrupts it. */
export interface RunIO {
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  /** Console output (stdout). */
  out: (text: string) => void;
  /** Whether stdin is an interactive terminal (raw mode, escape keys, SIGHUP). */
  stdinIsTTY: boolean;
  /** Aborted on Ctrl-C/SIGTERM: the machine is stopped cleanly. */
  signal: AbortSignal;
}

/** Seconds after `--timeout` at which the supervisor ends a machine whose client did not. */
const SUPERVISOR_GRACE_SEC = 5;

/**
 * What a plan builds inside the new instance directory before the VMM starts:
 * the CPIO of `--initrd DIR` (or a Unikraft `--rootfs DIR`), and the ext4
 * image of a Linux guest's `--rootfs DIR` (what `kiln rootfs build DIR -o
 * X.ext4` makes: root-owned, writable). Undefined when there is nothing to build.
 */
export function planPreparation(
  plan: Pick<RunPlan, "initrdDir" | "rootfsDir">,
  io: { reporter?: Reporter; signal?: AbortSignal },
): ((dir: string) => Promise<Partial<MachineSpec>>) | undefined {
  const { initrdDir, rootfsDir } = plan;
  if (initrdDir === undefined && rootfsDir === undefined) return undefined;
  return async (dir: string) => {
    const out: Partial<MachineSpec> = {};
    if (initrdDir !== undefined) {
      // Plain (uncompressed) newc: both Linux and Unikraft read it.
      out.initrd = join(dir, "initrd.cpio");
      const { packCpio } = await import("../image/cpio/index.js");
      await packCpio({ sourceDir: initrdDir, output: out.initrd, reporter: io.reporter, signal: io.signal });
    }
    if (rootfsDir !== undefined) {
      out.rootfs = join(dir, "rootfs.ext4");
      const { buildRootfs } = await import("../image/build.js");
      await buildRootfs({
        source: rootfsDir,
        output: out.rootfs,
        format: "ext4",
        ...(io.reporter ? { reporter: io.reporter } : {}),
        ...(io.signal ? { signal: io.signal } : {}),
      });
      out.rootfsReadOnly = false;
    }
    return out;
  };
}

/** How a run ended: started in the background, or the exit status of a finished one. */
export type RunResult =
  | { kind: "detached"; launched: Launched }
  | { kind: "created"; created: Omit<Launched, "started"> }
  | { kind: "exited"; exitCode: number };

/**
 * Launch a planned run, then attach to it unless detached. The caller owns
 * Ctrl-C from before this call (`io.signal`): an interrupt while starting
 * stops the machine (130); `--rm` removes it however it ends.
 */
export async function startRun(
  plan: RunPlan,
  io: RunIO,
  opts: {
    name?: string;
    autoRemove: boolean;
    noStart?: boolean;
    /** kraft's `--prefix TEXT` (or `true`: `--prefix-name`, the machine's name): console lines as `PREFIX | line`. */
    consolePrefix?: string | true;
  },
): Promise<RunResult> {
  const prepare = planPreparation(plan, io);
  if (opts.noStart) {
    const created = await createMachine(plan.base, {
      name: opts.name,
      driver: plan.driver,
      platform: plan.platform,
      autoRemove: opts.autoRemove,
      // `kiln start` runs it detached.
      detached: true,
      reporter: io.reporter,
      env: io.env,
      prepare,
    });
    return { kind: "created", created };
  }
  let launched: Launched;
  try {
    launched = await launchMachine(plan.base, {
      name: opts.name,
      driver: plan.driver,
      platform: plan.platform,
      autoRemove: opts.autoRemove,
      detached: plan.detach,
      // If this process dies (kill -9), the supervisor stops the machine, and honours --timeout
      // (a grace later than our own stop, which reports better).
      ...(plan.detach
        ? {}
        : {
            watch: {
              clientPid: process.pid,
              ...(plan.timeoutMs !== undefined
                ? { deadlineSec: plan.timeoutMs / 1000 + SUPERVISOR_GRACE_SEC }
                : {}),
            },
          }),
      reporter: io.reporter,
      env: io.env,
      prepare,
    });
  } catch (e) {
    // Interrupted while packing the initrd: launchMachine recorded the machine as failed to start.
    if (io.signal.aborted) return { kind: "exited", exitCode: ExitCode.interrupted };
    throw e;
  }
  const name = launched.spec.name;
  if (plan.detach && io.signal.aborted) {
    await stopMachine(name, {
      timeoutMs: 0,
      env: io.env,
      reason: interruptReason(io.signal),
      exitCode: interruptExitCode(io.signal),
    });
    if (opts.autoRemove) await removeMachine(name, { force: true, env: io.env }).catch(() => {});
    return { kind: "exited", exitCode: ExitCode.interrupted };
  }
  if (plan.detach) return { kind: "detached", launched };
  const prefix = opts.consolePrefix === true ? name : opts.consolePrefix;
  const exitCode = await runInForeground(
    name,
    launched.started,
    prefix === undefined ? io : prefixLines(io, prefix),
    {
      ...(plan.waitFor !== undefined ? { waitFor: plan.waitFor } : {}),
      ...(plan.timeoutMs !== undefined ? { timeoutMs: plan.timeoutMs } : {}),
      autoRemove: opts.autoRemove,
      accel: launched.started.accel,
    },
  );
  return { kind: "exited", exitCode };
}

/**
 * `io` with each console line printed as `PREFIX | line`, the form of kraft's
 * `--prefix` (KraftKit's log consumer writes `"%s | %s"`); no colour, so
 * NO_COLOR and pipes need nothing special.
 */
function prefixLines(io: RunIO, prefix: string): RunIO {
  let atLineStart = true;
  return {
    ...io,
    out: (text: string) => {
      if (text === "") return;
      let out = atLineStart ? `${prefix} | ` : "";
      out += text.replace(/\n(?=.)/gs, `\n${prefix} | `);
      atLineStart = text.endsWith("\n");
      io.out(out);
    },
  };
}

/**
 * Attach to a started machine until it ends: stream its console to `io.out`,
 * forward stdin to its console input, and return the guest's exit status
 * (0 on a `waitFor` match, 130 when interrupted); throws `RUN_TIMEOUT`.
 */
export async function runInForeground(
  name: string,
  started: Pick<StartedMachine, "consoleLog" | "consoleInput">,
  io: RunIO,
  opts: {
    waitFor?: ConsolePattern;
    timeoutMs?: number;
    autoRemove: boolean;
    /** The accelerator the machine runs under: a KVM guest stuck after its firmware gets a warning. */
    accel?: "kvm" | "tcg";
    /** kiln attach: show the console from this byte on, and let Ctrl-] d detach (the machine keeps running). */
    attach?: { fromOffset: number };
  },
): Promise<number> {
  const pending: Buffer[] = [];
  let sock: Awaited<ReturnType<typeof connectConsole>> | undefined;
  let text = "";
  // Input is held until the console shows a prompt (see endsWithPrompt), or goes quiet after
  // a guest program's output (looksReadyWhenQuiet: a program reading without a prompt), then
  // flows freely.
  let ready = false;
  const flush = () => {
    if (sock && ready) for (const b of pending.splice(0)) sock.write(b);
  };
  let quiet: NodeJS.Timeout | undefined;
  let settled: NodeJS.Timeout | undefined;
  // The terminal went away (SIGHUP): nothing can be written to it any more.
  let hungUp = false;
  const follower = followFile(
    started.consoleLog,
    (chunk) => {
      if (!hungUp) io.out(chunk.toString("utf8"));
      text = (text + chunk.toString("utf8")).slice(-256 * 1024);
      if (ready) return;
      // Both checks wait for the console to settle: the log is read in arbitrary pieces, and a
      // piece can end in something prompt-like that the next byte makes ordinary output.
      clearTimeout(settled);
      clearTimeout(quiet);
      settled = setTimeout(() => {
        if (ready || !endsWithPrompt(text)) return;
        ready = true;
        flush();
      }, PROMPT_SETTLE_MS);
      quiet = setTimeout(() => {
        if (ready || !looksReadyWhenQuiet(text)) return;
        ready = true;
        flush();
      }, CONSOLE_QUIET_MS);
      settled.unref();
      quiet.unref();
    },
    { fromOffset: opts.attach?.fromOffset ?? 0 },
  );
  // An attached console is a running guest's: it is ready for input now.
  if (opts.attach) ready = true;
  let detached = false;
  // A KVM guest that shows nothing beyond its firmware for a while is most likely on a host whose
  // KVM cannot run it (the probe passed, yet…): say so once, with the fix, rather than wait silently.
  const stuck =
    opts.accel === "kvm"
      ? setTimeout(() => {
          if (!printedOnlyFirmware(text)) return;
          io.reporter.warn(
            `machine ${name} has printed nothing beyond its firmware for ${FIRMWARE_ONLY_NOTICE_MS / 1000} s under KVM; this host's KVM may not run this guest. Stop it (Ctrl-C) and run with -W, or set KILN_ACCEL=tcg (kiln doctor shows what the KVM probe found).`,
          );
        }, FIRMWARE_ONLY_NOTICE_MS)
      : undefined;
  stuck?.unref();
  const stopController = new AbortController();
  const onAbort = () => stopController.abort();
  io.signal.addEventListener("abort", onAbort);
  // Ctrl-C while the machine was starting: stop it as soon as it runs.
  if (io.signal.aborted) onAbort();
  // Input: buffered until the console input is open, so nothing typed early is lost.
  const stdin = process.stdin;
  const tty = io.stdinIsTTY && stdin.isTTY === true;
  const filter = escapeFilter({ detach: opts.attach !== undefined });
  // A closed terminal stops the VM as Ctrl-C does, instead of leaving it running behind a dead Kiln
  // (QEMU runs in its own session, so the hangup does not reach it). Only on a terminal: under
  // nohup, stdin is not one, and a handler here would undo nohup's SIG_IGN.
  const onHangup = () => {
    hungUp = true;
    for (const s of [process.stdout, process.stderr, stdin]) s.on("error", () => {});
    stopController.abort();
  };
  if (tty) process.on("SIGHUP", onHangup);
  const onInput = (chunk: Buffer) => {
    const actions: ConsoleAction[] = tty ? filter(chunk) : [{ send: chunk }];
    for (const a of actions) {
      if ("detach" in a) {
        detached = true;
        stopController.abort();
      } else if ("stop" in a) stopController.abort();
      else if (sock && ready) sock.write(a.send);
      else pending.push(a.send);
    }
  };
  if (started.consoleInput) {
    if (tty) stdin.setRawMode(true);
    stdin.on("data", onInput);
    void connectConsole(started.consoleInput)
      .then((s) => {
        sock = s;
        flush();
      })
      .catch(() => {});
  }
  try {
    const outcome = await watchMachine(name, {
      env: io.env,
      waitFor: opts.waitFor,
      timeoutMs: opts.timeoutMs,
      consoleText: () => text,
      signal: stopController.signal,
    }).catch(async (e) => {
      if (e instanceof KilnError && e.code === "INTERRUPTED") {
        if (detached) return { kind: "detached" as const };
        const reason = hungUp ? "stopped: its terminal closed" : interruptReason(io.signal);
        const exitCode = hungUp ? ExitCode.interrupted : interruptExitCode(io.signal);
        await stopMachine(name, { timeoutMs: 3000, env: io.env, reason, exitCode });
        return { kind: "interrupted" as const };
      }
      throw e;
    });
    await follower.stop();
    if (outcome.kind === "detached") {
      io.reporter.info(`\nkiln: detached from ${name}; it keeps running (kiln attach ${name})`);
      return ExitCode.ok;
    }
    if (outcome.kind === "interrupted") {
      if (io.signal.reason === "SIGPIPE") return ExitCode.brokenPipe;
      if (!hungUp) io.reporter.info(`\nkiln: stopped machine ${name}`);
      return ExitCode.interrupted;
    }
    if (outcome.kind === "matched") {
      await stopMachine(name, {
        timeoutMs: 0,
        env: io.env,
        reason: `--wait-for matched "${outcome.match}"`,
      });
      io.reporter.info(`\nkiln: console matched ${opts.waitFor}; stopped machine ${name}`);
      return ExitCode.ok;
    }
    if (outcome.kind === "timeout") {
      await stopMachine(name, {
        timeoutMs: 0,
        env: io.env,
        reason: "--timeout reached",
        exitCode: ExitCode.error,
      });
      throw new KilnError(
        "RUN_TIMEOUT",
        `machine ${name} ran for ${(opts.timeoutMs ?? 0) / 1000} s ${opts.waitFor ? `without its console matching ${opts.waitFor}` : "without exiting"} (--timeout)`,
        {
          details: ["last console lines:", ...outcome.lastLines.split("\n").map((l) => `  | ${l}`)],
          hint: "raise --timeout, or look at the whole log with: kiln logs " + name,
        },
      );
    }
    const r = outcome.record;
    if (outcome.unmatched) {
      // As `expect` fails on end of file: the guest ended, so the awaited line can never come.
      throw new KilnError(
        "RUN_WAIT_FOR_UNMATCHED",
        `machine ${name} ${r.reason ?? "exited"} (exit ${r.exitCode ?? "unknown"}) without its console matching ${opts.waitFor}`,
        {
          details: ["last console lines:", ...(outcome.lastLines ?? "").split("\n").map((l) => `  | ${l}`)],
          hint: `look at the whole log with: kiln logs ${name}`,
        },
      );
    }
    if ((r.exitCode ?? 1) !== 0)
      io.reporter.info(`kiln: machine ${name} ${r.reason ?? "ended"} (exit ${r.exitCode})`);
    return r.exitCode ?? ExitCode.error;
  } finally {
    clearTimeout(stuck);
    clearTimeout(quiet);
    clearTimeout(settled);
    await follower.stop();
    io.signal.removeEventListener("abort", onAbort);
    stdin.off("data", onInput);
    process.off("SIGHUP", onHangup);
    if (tty && !hungUp) stdin.setRawMode(false);
    stdin.pause();
    sock?.destroy();
    if (opts.autoRemove && !detached) await removeMachine(name, { force: true, env: io.env }).catch(() => {});
  }
}

/**
 * What `kiln ps` says stopped a machine: the signal Kiln got (its abort
 * reason, set by the entry point; `SIGPIPE` for a closed stdout/stderr).
 */
function interruptReason(signal: AbortSignal): string {
  if (signal.reason === "SIGPIPE") return "stopped: its output was closed";
  return signal.reason === "SIGTERM" ? "stopped by SIGTERM" : "stopped by Ctrl-C";
}

/** The status Kiln exits with after that signal (128 + its number, as shells report it). */
function interruptExitCode(signal: AbortSignal): number {
  if (signal.reason === "SIGPIPE") return ExitCode.brokenPipe;
  return signal.reason === "SIGTERM" ? ExitCode.terminated : ExitCode.interrupted;
}
