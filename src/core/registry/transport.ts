/**
 * How Kiln reaches a registry: which scheme, whether the certificate is
 * verified, which CAs are trusted. Docker's rules (docker/docker
 * `registry/service.go` `lookupV2Endpoints`): HTTPS first; a registry marked
 * insecure (`--insecure`) is tried over HTTPS without verification, then plain
 * HTTP. Loopback registries (`localhost`, `127.x`, `[::1]`) are spoken to
 * over plain HTTP, and over HTTPS when the server shows it speaks TLS (it
 * answers plain HTTP with a 400 naming HTTPS, as Go's and nginx's servers do,
 * or drops the connection): that one is verified, so a self-signed
 * certificate on 127.0.0.1 is refused until its CA is given or `--insecure`
 * is passed (docker skips verification for 127.0.0.0/8; Kiln does not, so a
 * TLS problem is never hidden). Plain HTTP first on loopback spares the TLS
 * set-up (loading the system CAs) for the usual local registry: measured
 * ~0.1 s of a 50 MB pull.
 *
 * Extra CAs, as containers/image (skopeo, podman) reads them
 * (`pkg/docker/config` `dockerCertDir`): `*.crt` files in the first of
 * `$XDG_CONFIG_HOME/containers/certs.d/HOST[:PORT]/`,
 * `/etc/containers/certs.d/HOST[:PORT]/`, `/etc/docker/certs.d/HOST[:PORT]/`
 * that exists, added to the system roots; `NODE_EXTRA_CA_CERTS` works too.
 */
import { readdir, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import { isLoopbackRegistry } from "./reference.js";

/** One way to reach a registry, in the order tried. */
export interface RegistryEndpoint {
  /** `https://HOST[:PORT]` or `http://HOST[:PORT]`. */
  base: string;
  /** Whether the server's certificate is verified (HTTPS only). */
  verify: boolean;
  /**
   * Try the next endpoint when this one fails with: `tls` (any TLS failure:
   * HTTPS without verification, then plain HTTP) or `tls-server` (plain HTTP
   * reached a TLS server: a 400 naming HTTPS, or the connection dropped).
   */
  fallbackOn?: "tls" | "tls-server";
}

/** True for a plain-HTTP answer that says the port speaks HTTPS (Go: "Client sent an HTTP request to an HTTPS server"). */
export function isTlsServerAnswer(status: number, body: string): boolean {
  return status === 400 && /HTTPS|SSL|TLS/i.test(body);
}

/** The endpoints to try for `registry`, in order (pure). */
export function registryEndpoints(registry: string, insecure = false): RegistryEndpoint[] {
  const https = `https://${registry}`;
  const http = `http://${registry}`;
  if (insecure)
    return [
      { base: https, verify: false, fallbackOn: "tls" },
      { base: http, verify: false },
    ];
  if (isLoopbackRegistry(registry)) {
    return [
      { base: http, verify: false, fallbackOn: "tls-server" },
      { base: https, verify: true },
    ];
  }
  return [{ base: https, verify: true }];
}

/** The certs.d directories searched for a registry's CA files, in order. */
export function certsDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const config = env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), ".config");
  return [join(config, "containers/certs.d"), "/etc/containers/certs.d", "/etc/docker/certs.d"];
}

/** The extra CA certificates for `registry` from the first certs.d directory holding it. */
export async function registryCAs(
  registry: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ dir: string; pems: string[] } | undefined> {
  // certs.d names IPv6 hosts without brackets' escaping; docker writes `[::1]:5000` as is.
  for (const root of certsDirs(env)) {
    const dir = join(root, registry);
    const files = await readdir(dir).catch(() => undefined);
    if (!files) continue;
    const pems = await Promise.all(
      files.filter((f) => f.endsWith(".crt")).map((f) => readFile(join(dir, f), "utf8")),
    );
    return { dir, pems };
  }
  return undefined;
}

/** The CA list for a connection with extra CAs: the system roots, `NODE_EXTRA_CA_CERTS`, the extras. */
export async function trustedCAs(extra: string[], env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const nodeExtra = env.NODE_EXTRA_CA_CERTS
    ? await readFile(env.NODE_EXTRA_CA_CERTS, "utf8").catch(() => undefined)
    : undefined;
  return [...rootCertificates, ...(nodeExtra ? [nodeExtra] : []), ...extra];
}

function errorCodes(e: unknown): string {
  const parts: string[] = [];
  for (
    let x = e as { code?: string; message?: string; cause?: unknown } | undefined, i = 0;
    x && i < 4;
    i++
  ) {
    parts.push(`${x.code ?? ""} ${x.message ?? ""}`);
    x = x.cause as typeof x;
  }
  return parts.join(" | ");
}

/** True when a connection failed because one side spoke TLS and the other did not. */
export function isNotTlsError(e: unknown): boolean {
  return /WRONG_VERSION_NUMBER|wrong version number|PACKET_LENGTH_TOO_LONG|packet length too long|ECONNRESET|UND_ERR_SOCKET|other side closed|EPROTO/.test(
    errorCodes(e),
  );
}

/** True when a connection failed in TLS (certificate, handshake, protocol). */
export function isTlsError(e: unknown): boolean {
  return /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ERR_SSL|SSL routines|EPROTO|ALTNAME/.test(
    errorCodes(e),
  );
}

/** The deepest error's code or message, for a one-line reason. */
export function rootReason(e: unknown): string {
  let x = e as { code?: string; message?: string; cause?: unknown };
  while (x.cause && typeof x.cause === "object") x = x.cause as typeof x;
  return [x.code, x.message].filter(Boolean).join(": ");
}
