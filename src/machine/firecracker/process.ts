/**
 * The doing side of the Firecracker driver: start `firecracker` supervised in
 * an instance directory, wait for its API socket, send the planned requests,
 * and stop it (`SendCtrlAltDel`, then SIGKILL after a timeout).
 *
 * Firecracker's serial console is its stdout, so the process runs as
 * `sh -c 'echo $$ > vmm.pid; exec firecracker … >> console.log'`: `exec`
 * keeps the shell's pid, so `vmm.pid` is Firecracker's own pid, and the
 * console lands in `console.log` whether or not Kiln is still attached.
 */
import { lstat, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { KilnError } from "../../core/errors.js";
import { tail } from "../../core/exec.js";
import { writeFileAtomic } from "../../core/fs.js";
import { INSTANCE_FILES, processAlive, spawnSupervised } from "../supervise.js";
import { FirecrackerClient } from "./client.js";
import {
  buildFirecrackerConfig,
  type FirecrackerVmSpec,
  planFirecrackerRequests,
  SEND_CTRL_ALT_DEL,
} from "./plan.js";

/** Files of a Firecracker instance, beside the shared {@link INSTANCE_FILES}. */
export const FIRECRACKER_FILES = {
  apiSocket: "fc.sock",
  configFile: "firecracker.json",
  log: "firecracker.log",
  metrics: "firecracker-metrics.json",
  vsock: "vsock.sock",
} as const;

export interface FirecrackerLaunchOptions {
  /** Path of the `firecracker` binary. */
  binary: string;
  /** `api` configures over the socket; `config-file` writes `firecracker.json` and boots at once. */
  mode?: "api" | "config-file";
  /** Give up waiting for the API socket after this long (default 10 s). */
  socketTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Firecracker's `--id` (the instance name). */
  id?: string;
  /**
   * The API socket (`--socket-path`, as firectl names it); default
   * `<instanceDir>/fc.sock`. Elsewhere, `fc.sock` becomes a symbolic link to
   * it, so `kiln stop` (which knows only the instance directory) still finds it.
   */
  apiSocket?: string;
}

/**
 * Remove a socket Firecracker will bind (it refuses a path that exists, as a
 * stale socket from an earlier run would). Inside the instance directory
 * everything is Kiln's; elsewhere (`--socket-path`, `--vsock-path`) only a
 * socket is removed, never a user's file.
 */
async function clearSocketPath(path: string, what: string, instanceDir: string): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (st === undefined) return;
  if (dirname(path) !== instanceDir && !st.isSocket()) {
    throw new KilnError("SOCKET_PATH_TAKEN", `${what} ${path} exists and is not a socket`, {
      hint: "Firecracker creates the socket itself: give a path that does not exist yet",
    });
  }
  await rm(path, { force: true });
}

export interface LaunchedFirecracker {
  pid: number;
  argv: string[];
  socketPath: string;
  /** Resolves with the exit status (shell convention) when the process ends. */
  exited: Promise<number>;
}

const WRAPPER = 'echo $$ > vmm.pid; exec "$@" >> console.log';

async function readVmmLogTail(instanceDir: string): Promise<string[]> {
  try {
    return tail(await readFile(join(instanceDir, INSTANCE_FILES.vmmLog), "utf8"), 10);
  } catch {
    return [];
  }
}

async function readPid(instanceDir: string): Promise<number | undefined> {
  try {
    const n = Number.parseInt((await readFile(join(instanceDir, INSTANCE_FILES.pidfile), "utf8")).trim(), 10);
    return Number.isNaN(n) ? undefined : n;
  } catch {
    return undefined;
  }
}

/**
 * Start Firecracker for `spec` in `instanceDir` and boot the guest. Resolves
 * after `InstanceStart` was accepted (API mode) or the process is up (config
 * file mode). On any failure the process is killed before the error is thrown.
 */
export async function launchFirecracker(
  spec: FirecrackerVmSpec,
  instanceDir: string,
  options: FirecrackerLaunchOptions,
): Promise<LaunchedFirecracker> {
  const mode = options.mode ?? "api";
  // Plan first: invalid input fails here, before any process exists.
  const requests = mode === "api" ? planFirecrackerRequests(spec) : [];
  const defaultSocket = join(instanceDir, FIRECRACKER_FILES.apiSocket);
  const socketPath = options.apiSocket ?? defaultSocket;
  const argv = [options.binary, "--api-sock", socketPath];
  if (options.id) argv.push("--id", options.id);
  if (mode === "config-file") {
    const file = join(instanceDir, FIRECRACKER_FILES.configFile);
    await writeFileAtomic(file, `${JSON.stringify(buildFirecrackerConfig(spec), null, 2)}\n`);
    argv.push("--config-file", file);
  }
  // Firecracker opens (never creates) its log and metrics files, and refuses
  // an API socket path (and a vsock uds_path: it binds it) that already exists.
  for (const p of [spec.logger?.logPath, spec.metrics?.metricsPath])
    if (p) await writeFile(p, "", { flag: "a" });
  await clearSocketPath(socketPath, "the API socket", instanceDir);
  if (socketPath !== defaultSocket) {
    await rm(defaultSocket, { force: true });
    await symlink(socketPath, defaultSocket);
  }
  if (spec.vsock) await clearSocketPath(spec.vsock.udsPath, "the vsock socket", instanceDir);
  // The log is this boot's (as QEMU's, which writes from the file's start): `kiln start` of an
  // exited machine begins it afresh, so console.times (one time per line, from line 1) stays aligned.
  await writeFile(join(instanceDir, INSTANCE_FILES.consoleLog), "", { flag: "w" });

  const sup = await spawnSupervised(
    ["/bin/sh", "-c", WRAPPER, "kiln-firecracker", ...argv],
    instanceDir,
    options.env,
  );
  let exitedStatus: number | undefined;
  void sup.exited.then((s) => {
    exitedStatus = s;
  });
  const fail = async (e: unknown): Promise<never> => {
    // Kill Firecracker itself (the supervisor then records its end); only when
    // its pid is not known yet, the supervisor's whole process group.
    const pid = await readPid(instanceDir);
    try {
      if (pid !== undefined) process.kill(pid, "SIGKILL");
      else process.kill(-sup.supervisorPid, "SIGKILL");
    } catch {
      // already gone
    }
    // Poll rather than await `sup.exited`: the supervisor is unref'ed.
    while (pid !== undefined && processAlive(pid)) await sleep(10);
    throw e;
  };

  // Wait for the socket to answer (Firecracker binds it before reading the config).
  const client = new FirecrackerClient(socketPath);
  const deadline = Date.now() + (options.socketTimeoutMs ?? 10_000);
  for (;;) {
    if (exitedStatus !== undefined) {
      throw new KilnError(
        "VMM_FAILED",
        `firecracker exited with status ${exitedStatus} before its API socket was ready`,
        {
          details: [
            `command: ${argv.join(" ")}`,
            ...(await readVmmLogTail(instanceDir)).map((l) => `  | ${l}`),
          ],
        },
      );
    }
    try {
      await client.send({ method: "GET", path: "/" });
      break;
    } catch {
      if (Date.now() > deadline) {
        return fail(
          new KilnError(
            "VMM_FAILED",
            `firecracker's API socket ${socketPath} did not answer within ${options.socketTimeoutMs ?? 10_000} ms`,
            {
              details: (await readVmmLogTail(instanceDir)).map((l) => `  | ${l}`),
            },
          ),
        );
      }
      await sleep(25);
    }
  }
  try {
    await client.sendAll(requests);
  } catch (e) {
    return fail(e);
  }
  const pid = (await readPid(instanceDir)) ?? sup.supervisorPid;
  return { pid, argv, socketPath, exited: sup.exited };
}

/**
 * Stop a Firecracker instance: ask the guest with `SendCtrlAltDel` (Firecracker
 * exits when a `reboot=k` guest resets through the i8042), then SIGKILL after
 * `timeoutMs`. Resolves when the process is gone. Works on instances started
 * by another Kiln process (it needs only the pid and the socket).
 */
export async function stopFirecracker(
  instanceDir: string,
  pid: number,
  opts: { timeoutMs: number },
): Promise<"shutdown" | "killed" | "gone"> {
  if (!processAlive(pid)) return "gone";
  const client = new FirecrackerClient(join(instanceDir, FIRECRACKER_FILES.apiSocket), {
    timeoutMs: Math.min(opts.timeoutMs, 2000),
  });
  try {
    await client.send(SEND_CTRL_ALT_DEL);
  } catch {
    // Not started yet, socket gone or the guest cannot take it: kill below.
  }
  const deadline = Date.now() + opts.timeoutMs;
  while (Date.now() < deadline) {
    if (!processAlive(pid)) return "shutdown";
    await sleep(25);
  }
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // exited in between
  }
  while (processAlive(pid)) await sleep(10);
  return "killed";
}
