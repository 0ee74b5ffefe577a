/**
 * Debian's `docker-registry` (distribution) on 127.0.0.1 for tests: plain, or
 * behind HTTP Basic auth from an htpasswd file (bcrypt, made with apache2-utils'
 * `htpasswd -B`, as distribution's `auth.htpasswd` requires), or behind a token
 * server (`auth.token`, see token-server.ts), over HTTP or HTTPS (`http.tls`).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { join } from "node:path";

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

export interface TestRegistry {
  port: number;
  host: string;
  proc: ChildProcess;
  /** The registry's storage root (blobs under docker/registry/v2/blobs/sha256). */
  storage: string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** HTTP Basic credentials the registry demands (htpasswd). */
  basic?: { user: string; password: string };
  /** Token authentication: the token server's realm, service, issuer and certificate. */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  /** The address to listen on (default 127.0.0.1): another one makes a non-loopback registry. */
  ip?: string;
  /** Storage in read-only maintenance mode: pushes are refused (HTTP 405). */
  readOnly?: boolean;
  /** Serve HTTPS with this certificate and key (PEM files). */
  tls?: { certificate: string; key: string };
}

/** Start a registry in `dir`, plain or with the authentication and TLS of `opts`. */
export async function startRegistry(dir: string, opts: RegistryOptions = {}): Promise<TestRegistry> {
  mkdirSync(dir, { recursive: true });
  const ip = opts.ip ?? "127.0.0.1";
  const port = await freePort();
  const storage = join(dir, "storage");
  const config = join(dir, "registry.yml");
  const lines = [
    "version: 0.1",
    "log:",
    "  level: error",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${storage}`,
    ...(opts.readOnly ? ["  maintenance:", "    readonly:", "      enabled: true"] : []),
    "http:",
    `  addr: ${ip}:${port}`,
  ];
  if (opts.tls) lines.push("  tls:", `    certificate: ${opts.tls.certificate}`, `    key: ${opts.tls.key}`);
  if (opts.basic) {
    const htpasswd = join(dir, "htpasswd");
    writeFileSync(htpasswd, execFileSync("htpasswd", ["-nbB", opts.basic.user, opts.basic.password]));
    lines.push("auth:", "  htpasswd:", "    realm: kiln-test", `    path: ${htpasswd}`);
  } else if (opts.token) {
    const t = opts.token;
    lines.push("auth:", "  token:", `    realm: ${t.realm}`, `    service: ${t.service}`);
    lines.push(`    issuer: ${t.issuer}`, `    rootcertbundle: ${t.rootCertBundle}`);
  }
  writeFileSync(config, `${lines.join("\n")}\n`);
  const proc = spawn("docker-registry", ["serve", config], { stdio: "ignore" });
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill();
    await new Promise((r) => proc.once("close", r));
  };
  for (let i = 0; i < 100; i++) {
    const up = opts.tls
      ? await new Promise<boolean>((r) => {
          const s = connect(port, ip, () => {
            s.destroy();
            r(true);
          }).on("error", () => r(false));
        })
      : await fetch(`http://${ip}:${port}/v2/`).then(
          (r) => r.status === 200 || r.status === 401,
          () => false,
        );
    if (up) return { port, host: `${ip}:${port}`, proc, storage, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error("docker-registry did not start");
}

/** The registry's stored file for a blob digest. */
export function registryBlobPath(storage: string, digest: string): string {
  const hex = digest.slice("sha256:".length);
  return join(storage, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data");
}
