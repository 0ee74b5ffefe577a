/**
 * `kiln run [KERNEL|DIR] [options] [-- app args]`: boot a kernel file, or a
 * project's built target, in a VM. Foreground runs stream the console and
 * forward input (see `machine/console.ts` for the escape sequence); `-d`
 * detaches; `--wait-for`/`--timeout` make a smoke test.
 */

import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ExitCode, KilnError, usageError } from "../../core/errors.js";
import { parseMemMiB } from "../../core/units.js";
// Modules are imported one by one, and the Kraftfile reader and CPIO writer
// only when needed: start-up time is part of every boot (see bench/boot).
import {
  type ConsoleAction,
  connectConsole,
  endsWithPrompt,
  escapeFilter,
  followFile,
} from "../../machine/console.js";
import type { MachineSpec } from "../../machine/driver.js";
import { getDriver } from "../../machine/drivers.js";
import { detectKernel } from "../../machine/kernel-detect.js";
import { launchMachine, removeMachine, stopMachine, watchMachine } from "../../machine/launch.js";
import { parseNetworkOption } from "../../machine/network.js";
import { qemuDriver } from "../../machine/qemu/driver.js";
import { parseEnvVar, parsePortForward, parseVolume } from "../../machine/spec.js";
import { bool, type CommandContext, type CommandDef, list, str } from "../command.js";

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function positiveInt(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw usageError(`${what} must be a whole number ≥ 1; got "${text}"`);
  return Number(text);
}

async function resolveTarget(ctx: CommandContext) {
  const arg = ctx.positionals[0];
  const path = arg === undefined ? ctx.cwd : resolve(ctx.cwd, arg);
  if (arg === undefined || isDir(path)) {
    const { projectRun } = await import("../../machine/project.js");
    const pr = await projectRun(
      path,
      {
        target: str(ctx, "target"),
        platform: str(ctx, "plat"),
        arch: str(ctx, "arch"),
        kraftfile: str(ctx, "kraftfile"),
      },
      ctx.env,
    );
    return { kernel: pr.kernel, initrd: pr.initrd, project: pr };
  }
  return { kernel: path, initrd: undefined, project: undefined };
}

const command: CommandDef = {
  name: ["run"],
  summary: "boot a kernel or a project's built target in a VM (QEMU by default)",
  usage: "run [KERNEL|DIR] [options] [-- app args]",
  maxPositionals: 1,
  options: {
    initrd: {
      type: "string",
      valueName: "FILE|DIR",
      description: "initrd file, or a directory packed to CPIO on the fly",
    },
    rootfs: {
      type: "string",
      valueName: "IMAGE",
      description: "root filesystem image on virtio-blk (/dev/vda)",
    },
    volume: {
      type: "string",
      short: "v",
      multiple: true,
      valueName: "SRC:DST[:ro]",
      description: "share a host directory over 9p",
    },
    publish: {
      type: "string",
      short: "p",
      multiple: true,
      valueName: "[IP:]HOST:GUEST[/tcp|udp]",
      description: "forward a host port (bound to 127.0.0.1 unless IP is given)",
    },
    memory: {
      type: "string",
      short: "M",
      valueName: "SIZE",
      description: "guest memory: 64M, 1G (bare number = MiB; default 64M Unikraft, 256M Linux)",
    },
    cpus: { type: "string", valueName: "N", description: "virtual CPUs (default 1)" },
    "kernel-arg": {
      type: "string",
      short: "a",
      multiple: true,
      valueName: "ARG",
      description: "kernel command-line argument",
    },
    env: {
      type: "string",
      short: "e",
      multiple: true,
      valueName: "K=V",
      description: "environment variable for the application",
    },
    detach: {
      type: "boolean",
      short: "d",
      description: "start in the background and print the machine name",
    },
    rm: { type: "boolean", description: "remove the machine when it exits" },
    name: {
      type: "string",
      short: "n",
      valueName: "NAME",
      description: "machine name (default: generated adjective_noun)",
    },
    "no-accel": { type: "boolean", short: "W", description: "do not try KVM; emulate with TCG" },
    network: {
      type: "string",
      valueName: "MODE",
      description:
        "user (default: user-mode, no privileges), none, tap[:DEV] (an existing tap device), bridge[:BR] (via qemu-bridge-helper)",
    },
    "wait-for": {
      type: "string",
      valueName: "REGEX",
      description: "exit 0 (and stop the VM) once the console matches",
    },
    timeout: {
      type: "string",
      valueName: "SECONDS",
      description: "fail with the last console lines after this long",
    },
    vmm: {
      type: "string",
      valueName: "NAME",
      description: "qemu (default) or firecracker (default for firecracker targets)",
    },
    "qemu-machine": {
      type: "string",
      valueName: "TYPE",
      description: "override QEMU's machine type: pc, q35, microvm",
    },
    target: { type: "string", short: "t", valueName: "NAME", description: "project target to run" },
    plat: { type: "string", valueName: "PLAT", description: "project target platform filter" },
    arch: {
      type: "string",
      short: "m",
      valueName: "ARCH",
      description: "project target architecture filter",
    },
    kraftfile: {
      type: "string",
      short: "K",
      valueName: "FILE",
      description: "Kraftfile to read (default: DIR's)",
    },
    json: { type: "boolean", description: "with -d: print the machine record as JSON" },
  },
  details: `Console keys (interactive terminal): Ctrl-C stops the VM cleanly; Ctrl-] then c sends Ctrl-C
to the guest; Ctrl-] then q stops the VM; Ctrl-] Ctrl-] sends Ctrl-]. Piped stdin goes to the console.
Exit status: the guest's (Linux power-off 0, panic 1, Unikraft/isa-debug-exit code), 0 on --wait-for match.

examples:
  kiln run /boot/vmlinuz-$(uname -r) --initrd examples/hello-linux/rootfs --wait-for 'hello from'
  kiln run -d -n web -p 8080:80 KERNEL --initrd rootfs/
  kiln run -t helloworld_qemu-x86_64 .`,
  async run(ctx) {
    const t = await resolveTarget(ctx);
    const info = await detectKernel(t.kernel);
    const project = t.project?.project;
    const { network, networkDevice } = parseNetworkOption(str(ctx, "network") ?? "user");
    const qm = str(ctx, "qemu-machine");
    if (qm !== undefined && !["pc", "q35", "microvm"].includes(qm))
      throw usageError(`--qemu-machine must be pc, q35 or microvm; got "${qm}"`);
    const vmmName =
      str(ctx, "vmm") ?? (t.project?.target.platform === "firecracker" ? "firecracker" : "qemu");
    const driver = vmmName === "qemu" ? qemuDriver({ machine: qm as "pc" | undefined }) : getDriver(vmmName);
    const env: Record<string, string> = { ...(project?.env ?? {}) };
    for (const e of list(ctx, "env")) {
      const [k, v] = parseEnvVar(e, ctx.env);
      env[k] = v;
    }
    const volumes = [
      ...(project?.volumes ?? []).map((v, i) => ({
        hostPath: v.source,
        guestPath: v.destination,
        readonly: v.readonly,
        tag: `fs${i}`,
      })),
    ];
    for (const v of list(ctx, "volume")) volumes.push(parseVolume(v, ctx.cwd, volumes.length));
    const initrdArg = str(ctx, "initrd");
    const initrdPath = initrdArg === undefined ? t.initrd : resolve(ctx.cwd, initrdArg);
    const initrdDir = initrdPath !== undefined && isDir(initrdPath) ? initrdPath : undefined;
    const rootfs = str(ctx, "rootfs");
    const memText = str(ctx, "memory");
    const timeoutText = str(ctx, "timeout");
    const timeoutMs = timeoutText === undefined ? undefined : Number(timeoutText) * 1000;
    if (timeoutMs !== undefined && !(timeoutMs > 0))
      throw usageError(`--timeout must be a positive number of seconds; got "${timeoutText}"`);
    const waitForText = str(ctx, "wait-for");
    let waitFor: RegExp | undefined;
    try {
      waitFor = waitForText === undefined ? undefined : new RegExp(waitForText, "m");
    } catch (e) {
      throw usageError(`--wait-for "${waitForText}" is not a regular expression: ${(e as Error).message}`);
    }
    const detach = bool(ctx, "detach");
    if (detach && (waitFor !== undefined || timeoutMs !== undefined)) {
      throw usageError("--wait-for and --timeout watch a foreground run; they cannot be combined with -d");
    }
    const base: Omit<MachineSpec, "name"> = {
      kernel: t.kernel,
      kernelKind: info.kind,
      guest: info.guest,
      architecture: info.architecture,
      memMiB: memText !== undefined ? parseMemMiB(memText) : info.guest === "linux" ? 256 : 64,
      cpus: positiveInt(str(ctx, "cpus") ?? "1", "--cpus"),
      kernelArgs: list(ctx, "kernel-arg"),
      appArgs: ctx.rest.length > 0 ? ctx.rest : (project?.cmd ?? []),
      env,
      ...(initrdPath !== undefined && !initrdDir ? { initrd: initrdPath } : {}),
      ...(rootfs !== undefined ? { rootfs: resolve(ctx.cwd, rootfs) } : {}),
      volumes,
      ports: list(ctx, "publish").map(parsePortForward),
      network,
      ...(networkDevice !== undefined ? { networkDevice } : {}),
      accel: bool(ctx, "no-accel") ? "tcg" : "auto",
    };
    if (base.ports.length > 0 && network === "none") {
      throw usageError(
        "-p forwards ports over the user-mode network; it cannot be combined with --network none",
      );
    }
    // Missing inputs are reported before anything starts (QEMU would only say "could not load").
    const inputs: [string, string | undefined][] = [
      ["--initrd", initrdPath],
      ["--rootfs", base.rootfs],
      ...base.volumes.map((v): [string, string] => ["-v", v.hostPath]),
    ];
    for (const [flag, path] of inputs) {
      if (path !== undefined && !existsSync(path)) {
        throw new KilnError("INPUT_NOT_FOUND", `${flag} ${path} does not exist`, {
          hint: flag === "-v" ? "create the host directory first, or fix the path" : "check the path",
        });
      }
    }
    // Ctrl-C from here on is Kiln's to handle: main's default would exit at once, leaving a QEMU
    // spawned in its own session (or a record stuck in "starting") behind.
    ctx.claimInterrupts();
    let launched: Awaited<ReturnType<typeof launchMachine>>;
    try {
      launched = await launchMachine(base, {
        name: str(ctx, "name"),
        driver,
        platform: t.project?.target.platform ?? driver.name,
        autoRemove: bool(ctx, "rm"),
        detached: detach,
        reporter: ctx.reporter,
        env: ctx.env,
        prepare: initrdDir
          ? async (dir) => {
              // Plain (uncompressed) newc: both Linux and Unikraft read it.
              const out = join(dir, "initrd.cpio");
              const { packCpio } = await import("../../image/cpio/index.js");
              await packCpio({
                sourceDir: initrdDir,
                output: out,
                reporter: ctx.reporter,
                signal: ctx.signal,
              });
              return { initrd: out };
            }
          : undefined,
      });
    } catch (e) {
      // Interrupted while packing the initrd: launchMachine recorded the machine as failed to start.
      if (ctx.signal.aborted) return ExitCode.interrupted;
      throw e;
    }
    const name = launched.spec.name;
    if (detach && ctx.signal.aborted) {
      await stopMachine(name, { timeoutMs: 0, env: ctx.env, reason: "stopped by Ctrl-C" });
      if (bool(ctx, "rm")) await removeMachine(name, { force: true, env: ctx.env }).catch(() => {});
      return ExitCode.interrupted;
    }
    if (detach) {
      ctx.out(bool(ctx, "json") ? `${JSON.stringify(launched.record, null, 2)}\n` : `${name}\n`);
      return ExitCode.ok;
    }
    return foreground(ctx, name, launched.started, { waitFor, timeoutMs, autoRemove: bool(ctx, "rm") });
  },
};

async function foreground(
  ctx: CommandContext,
  name: string,
  started: { consoleLog: string; consoleSocket?: string },
  opts: { waitFor?: RegExp; timeoutMs?: number; autoRemove: boolean },
): Promise<number> {
  ctx.claimInterrupts();
  const pending: Buffer[] = [];
  let sock: Awaited<ReturnType<typeof connectConsole>> | undefined;
  let text = "";
  // Input is held until the console shows a prompt (see endsWithPrompt), then flows freely.
  let ready = false;
  const flush = () => {
    if (sock && ready) for (const b of pending.splice(0)) sock.write(b);
  };
  // The terminal went away (SIGHUP): nothing can be written to it any more.
  let hungUp = false;
  const follower = followFile(started.consoleLog, (chunk) => {
    if (!hungUp) ctx.out(chunk.toString("utf8"));
    text = (text + chunk.toString("utf8")).slice(-256 * 1024);
    if (!ready && endsWithPrompt(text)) {
      ready = true;
      flush();
    }
  });
  const stopController = new AbortController();
  const onAbort = () => stopController.abort();
  ctx.signal.addEventListener("abort", onAbort);
  // Ctrl-C while the machine was starting: stop it as soon as it runs.
  if (ctx.signal.aborted) onAbort();
  // Input: buffered until the console socket is connected, so nothing typed early is lost.
  const stdin = process.stdin;
  const tty = ctx.stdinIsTTY && stdin.isTTY === true;
  const filter = escapeFilter();
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
      if ("stop" in a) stopController.abort();
      else if (sock && ready) sock.write(a.send);
      else pending.push(a.send);
    }
  };
  if (started.consoleSocket) {
    if (tty) stdin.setRawMode(true);
    stdin.on("data", onInput);
    void connectConsole(started.consoleSocket)
      .then((s) => {
        sock = s;
        flush();
      })
      .catch(() => {});
  }
  try {
    const outcome = await watchMachine(name, {
      env: ctx.env,
      waitFor: opts.waitFor,
      timeoutMs: opts.timeoutMs,
      consoleText: () => text,
      signal: stopController.signal,
    }).catch(async (e) => {
      if (e instanceof KilnError && e.code === "INTERRUPTED") {
        const reason = hungUp ? "stopped: its terminal closed" : "stopped by Ctrl-C";
        await stopMachine(name, { timeoutMs: 3000, env: ctx.env, reason });
        return { kind: "interrupted" as const };
      }
      throw e;
    });
    await follower.stop();
    if (outcome.kind === "interrupted") {
      if (!hungUp) ctx.reporter.info(`\nkiln: stopped machine ${name}`);
      return ExitCode.interrupted;
    }
    if (outcome.kind === "matched") {
      await stopMachine(name, {
        timeoutMs: 0,
        env: ctx.env,
        reason: `--wait-for matched "${outcome.match}"`,
      });
      ctx.reporter.info(`\nkiln: console matched ${opts.waitFor}; stopped machine ${name}`);
      return ExitCode.ok;
    }
    if (outcome.kind === "timeout") {
      await stopMachine(name, { timeoutMs: 0, env: ctx.env, reason: "--timeout reached" });
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
    if ((r.exitCode ?? 1) !== 0)
      ctx.reporter.info(`kiln: machine ${name} ${r.reason ?? "ended"} (exit ${r.exitCode})`);
    return r.exitCode ?? ExitCode.error;
  } finally {
    await follower.stop();
    ctx.signal.removeEventListener("abort", onAbort);
    stdin.off("data", onInput);
    process.off("SIGHUP", onHangup);
    if (tty && !hungUp) stdin.setRawMode(false);
    stdin.pause();
    sock?.destroy();
    if (opts.autoRemove) await removeMachine(name, { force: true, env: ctx.env }).catch(() => {});
  }
}

export default command;
