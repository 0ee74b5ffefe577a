/**
 * A spec-checking stand-in for Firecracker (which cannot run on these
 * machines): an HTTP server on a Unix socket that accepts exactly the
 * methods and paths of `../shared/data/firecracker/firecracker-api.yaml`,
 * validates every request body against that spec, records every request,
 * and answers as Firecracker does: `204 No Content`, or `400` with
 * `{"fault_message": …}` for invalid bodies and bad state transitions
 * (configuring after `InstanceStart`, starting without a kernel).
 *
 * Run as a program it mimics the `firecracker` binary (`--api-sock`,
 * `--config-file`, `--no-api`), so tests can put it on PATH and exercise
 * Kiln's real spawn → socket → configure → start → stop path. Its "guest" is
 * a line on stdout (Firecracker's serial console goes to its stdout):
 * `stand-in guest booted: kernel=… args=…`. `SendCtrlAltDel` makes it exit 0
 * as Firecracker does when the guest reboots with `reboot=k`, unless
 * `KILN_FC_STANDIN_IGNORE_CTRLALTDEL=1` (a guest that ignores the request).
 * `KILN_FC_STANDIN_LOG=FILE` appends each request and its verdict as JSON lines.
 * A vsock device's `uds_path` is bound as Firecracker binds it (refused when
 * the path exists); with no guest behind it, a connection is closed after its
 * `CONNECT <port>` line, as Firecracker does when no guest program listens.
 */
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createNetServer, type Server as NetServer } from "node:net";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { FirecrackerApi } from "../../src/machine/firecracker/spec-check.js";

/** The spec the stand-in checks against (read at run time, never copied). */
export const FIRECRACKER_API_YAML = resolve(
  process.env.KILN_SHARED ?? resolve(import.meta.dirname, "../../../shared"),
  "data/firecracker/firecracker-api.yaml",
);

/** One request as the stand-in saw it. */
export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
  status: number;
  /** Spec violations or state errors; empty when the request was accepted. */
  errors: string[];
}

export interface StandinOptions {
  socketPath: string;
  api?: FirecrackerApi;
  /** Called once when `InstanceStart` succeeds, with the configuration so far. */
  onStart?: (config: Record<string, unknown>) => void;
  /** Called when `SendCtrlAltDel` is accepted. */
  onCtrlAltDel?: () => void;
  /** Called for every request after it is answered. */
  onRequest?: (r: RecordedRequest) => void;
  /** A configuration loaded from `--config-file`: the machine counts as started. */
  preconfigured?: Record<string, unknown>;
  /**
   * Open host files as Firecracker does when they are configured (kernel and
   * initrd on `PUT /boot-source`, `path_on_host` on `PUT /drives/…`) and
   * answer 400 when one cannot be opened, and bind a vsock `uds_path` on
   * `PUT /vsock`. Default false (in-process tests use made-up paths); the
   * program mode turns it on.
   */
  checkFiles?: boolean;
}

export interface Standin {
  requests: RecordedRequest[];
  /** Configuration accumulated from accepted requests (FullVmConfiguration shape). */
  config: Record<string, unknown>;
  started(): boolean;
  close(): Promise<void>;
}

// Firecracker's own wording (vmm::rpc_interface, api_server::parsed_request).
const POST_BOOT = "The requested operation is not supported after starting the microVM.";
const PRE_BOOT = "The requested operation is not supported before starting the microVM.";
const NO_KERNEL = "Cannot start microvm without kernel configuration.";

let cachedApi: FirecrackerApi | undefined;
function defaultApi(): FirecrackerApi {
  cachedApi ??= FirecrackerApi.load(FIRECRACKER_API_YAML);
  return cachedApi;
}

/**
 * Bind a vsock device's host socket as Firecracker's `VsockUnixBackend` does
 * (`UnixListener::bind`, so an existing path is an error). There is no guest:
 * a host connection's `CONNECT <port>` finds no listener and is closed.
 */
export function bindVsockSocket(udsPath: string): Promise<NetServer> {
  const server = createNetServer((conn) => {
    conn.once("data", () => conn.end());
  });
  return new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(udsPath, () => {
      server.off("error", reject);
      server.unref();
      resolvePromise(server);
    });
  });
}

function upsert(list: unknown, key: string, item: Record<string, unknown>): Record<string, unknown>[] {
  const arr = (Array.isArray(list) ? list : []) as Record<string, unknown>[];
  return [...arr.filter((x) => x[key] !== item[key]), item];
}

/** Start a stand-in listening on `socketPath`. */
export function startStandin(options: StandinOptions): Promise<Standin> {
  const api = options.api ?? defaultApi();
  const requests: RecordedRequest[] = [];
  const config: Record<string, unknown> = { ...options.preconfigured };
  const vsockServers: NetServer[] = [];
  let running = options.preconfigured !== undefined;

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    const answer = (status: number, payload: unknown, errors: string[], body: unknown) => {
      const text = payload === undefined ? "" : JSON.stringify(payload);
      res.writeHead(status, text ? { "Content-Type": "application/json" } : {});
      res.end(text);
      const rec = { method, path, body, status, errors };
      requests.push(rec);
      options.onRequest?.(rec);
    };
    const fault = (msg: string, body: unknown, errors = [msg]) =>
      answer(400, { fault_message: msg }, errors, body);
    let body: unknown;
    if (raw.trim() !== "") {
      try {
        body = JSON.parse(raw);
      } catch (e) {
        fault(
          `An error occurred when deserializing the json body of a request: ${(e as Error).message}`,
          raw,
        );
        return;
      }
    }
    const check = api.checkRequest(method, path, body);
    if (!check.operation) {
      fault(`Invalid request method and/or path: ${method} ${path.split("?")[0]}.`, body);
      return;
    }
    if (check.errors.length > 0) {
      fault(
        `An error occurred when deserializing the json body of a request: ${check.errors.join("; ")}`,
        body,
        check.errors,
      );
      return;
    }
    const b = (body ?? {}) as Record<string, unknown>;
    const op = check.operation.operationId;
    if (method === "GET") {
      if (path === "/") {
        const state = running ? "Running" : "Not started";
        answer(
          200,
          { app_name: "Firecracker", id: "anonymous-instance", state, vmm_version: api.version },
          [],
          body,
        );
      } else if (path === "/vm/config") answer(200, config, [], body);
      else if (path === "/machine-config")
        answer(200, config["machine-config"] ?? { vcpu_count: 1, mem_size_mib: 128 }, [], body);
      else if (path === "/version") answer(200, { firecracker_version: api.version }, [], body);
      else fault(`the stand-in does not implement ${op}`, body);
      return;
    }
    if (op === "createSyncAction") {
      if (b.action_type === "InstanceStart") {
        if (running) return fault(POST_BOOT, body);
        if (!config["boot-source"]) return fault(NO_KERNEL, body);
        running = true;
        answer(204, undefined, [], body);
        options.onStart?.(config);
      } else if (b.action_type === "SendCtrlAltDel") {
        if (!running) return fault(PRE_BOOT, body);
        answer(204, undefined, [], body);
        options.onCtrlAltDel?.();
      } else answer(204, undefined, [], body);
      return;
    }
    // Every other accepted operation configures the machine: pre-boot only.
    if (running) return fault(POST_BOOT, body);
    const resource = check.operation.template.split("/")[1]!;
    if (options.checkFiles) {
      const missing = (p: unknown) => typeof p === "string" && !existsSync(p);
      const enoent = "No such file or directory (os error 2)";
      if (resource === "boot-source" && missing(b.kernel_image_path))
        return fault(`The kernel file cannot be opened: ${enoent}`, body);
      if (resource === "boot-source" && missing(b.initrd_path))
        return fault(
          `The initrd file cannot be opened due to invalid path or invalid permissions. ${enoent}`,
          body,
        );
      if (resource === "drives" && missing(b.path_on_host))
        return fault(`Unable to create the block device: ${enoent}: ${String(b.path_on_host)}`, body);
    }
    if (resource === "vsock" && options.checkFiles) {
      // Answered once the socket is bound (or not), as Firecracker does.
      bindVsockSocket(String(b.uds_path)).then(
        (vs) => {
          vsockServers.push(vs);
          config.vsock = b;
          answer(204, undefined, [], body);
        },
        (e: Error) => fault(`Cannot create backend for vsock device: ${e.message}`, body),
      );
      return;
    }
    if (resource === "drives") config.drives = upsert(config.drives, "drive_id", b);
    else if (resource === "network-interfaces")
      config["network-interfaces"] = upsert(config["network-interfaces"], "iface_id", b);
    else if (resource === "pmem") config.pmem = upsert(config.pmem, "id", b);
    else if (resource === "machine-config" && method === "PATCH")
      config[resource] = { ...(config[resource] as object), ...b };
    else if (resource === "mmds") config["mmds-config"] = b;
    else config[resource] = b;
    answer(204, undefined, [], body);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handle(req, res, Buffer.concat(chunks).toString("utf8")));
  });
  return new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(options.socketPath, () => {
      server.off("error", reject);
      resolvePromise({
        requests,
        config,
        started: () => running,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            for (const vs of vsockServers) vs.close();
            server.close(() => r());
          }),
      });
    });
  });
}

/**
 * Install the stand-in as an executable `firecracker` in `binDir` (a shell
 * wrapper running this file through tsx) and return its path; put `binDir`
 * first on PATH to use it.
 */
export function installFakeFirecracker(binDir: string): string {
  const tsx = pathToFileURL(resolve(import.meta.dirname, "../../node_modules/tsx/dist/loader.mjs")).href;
  const self = resolve(import.meta.dirname, "firecracker-standin.ts");
  const path = join(binDir, "firecracker");
  writeFileSync(path, `#!/bin/sh\nexec "${process.execPath}" --import "${tsx}" "${self}" "$@"\n`, {
    mode: 0o755,
  });
  return path;
}

function argValue(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i === -1 ? undefined : argv[i + 1];
}

/** The program: mimics `firecracker --api-sock PATH [--config-file FILE] [--no-api]`. */
async function mainProgram(argv: string[]): Promise<void> {
  const log = process.env.KILN_FC_STANDIN_LOG;
  const record = (r: RecordedRequest | Record<string, unknown>) => {
    if (log) appendFileSync(log, `${JSON.stringify(r)}\n`);
  };
  const ignoreCad = process.env.KILN_FC_STANDIN_IGNORE_CTRLALTDEL === "1";
  const api = defaultApi();
  const boot = (cfg: Record<string, unknown>) => {
    const bs = (cfg["boot-source"] ?? {}) as Record<string, unknown>;
    process.stdout.write(
      `stand-in guest booted: kernel=${String(bs.kernel_image_path)} args=${String(bs.boot_args ?? "")}\n`,
    );
  };
  const id = argValue(argv, "--id");
  if (id !== undefined && !/^[A-Za-z0-9-]{1,64}$/.test(id)) {
    // Firecracker's validate_instance_id: alphanumeric and hyphens, 1-64 characters.
    process.stderr.write(`Invalid instance ID: ${id}\n`);
    process.exit(1);
  }
  const noApi = argv.includes("--no-api");
  const socketPath = argValue(argv, "--api-sock") ?? "/run/firecracker.socket";
  const configFile = argValue(argv, "--config-file");
  let fileConfig: Record<string, unknown> | undefined;
  if (configFile) {
    fileConfig = JSON.parse(readFileSync(configFile, "utf8")) as Record<string, unknown>;
    const errors = api.checkDefinition("FullVmConfiguration", fileConfig);
    record({ configFile, body: fileConfig, errors });
    if (errors.length > 0) {
      process.stderr.write(`Configuration for VMM from one single json failed: ${errors.join("; ")}\n`);
      process.exit(1);
    }
  }
  let shutdown = () => process.exit(0);
  if (!noApi) {
    if (existsSync(socketPath)) {
      // Firecracker refuses to reuse an existing socket path.
      process.stderr.write(`Failed to open the API socket at: ${socketPath}. Address in use.\n`);
      process.exit(1);
    }
    await startStandin({
      socketPath,
      api,
      onRequest: record,
      onStart: boot,
      checkFiles: true,
      ...(fileConfig ? { preconfigured: fileConfig } : {}),
      onCtrlAltDel: () => {
        if (ignoreCad) return;
        process.stdout.write("reboot: Restarting system\n");
        setTimeout(shutdown, 50);
      },
    });
    shutdown = () => {
      rmSync(socketPath, { force: true });
      process.exit(0);
    };
    process.on("SIGTERM", shutdown);
  }
  const fileVsock = fileConfig?.vsock as { uds_path?: string } | undefined;
  if (fileVsock?.uds_path) {
    try {
      await bindVsockSocket(fileVsock.uds_path);
    } catch (e) {
      process.stderr.write(`Cannot create backend for vsock device: ${(e as Error).message}\n`);
      process.exit(1);
    }
  }
  if (fileConfig) boot(fileConfig);
  setInterval(() => {}, 1 << 30);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  mainProgram(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`stand-in failed: ${String(e)}\n`);
    process.exit(1);
  });
}
