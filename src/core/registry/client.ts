/**
 * An OCI distribution API client (distribution-spec spec.md) on Node's
 * fetch (undici): the `/v2/<name>/…` routes, authentication as docker does it
 * (anonymous; HTTP Basic; Bearer tokens from the `WWW-Authenticate` challenge's
 * realm, per Docker's token spec, asked with Basic credentials when Kiln has
 * them), retries with backoff on 5xx, 429 and connection resets, and one
 * error per failure a user can act on (401, 403, 404, unreachable, TLS).
 */
import type { Readable } from "node:stream";
import { KilnError } from "../errors.js";
import { findCredentials, type RegistryCredentials } from "./auth.js";
import { credentialsHint, type ErrorContext, statusError, unreachableError } from "./errors.js";
import { parseBearerChallenge } from "./reference.js";
import { type StreamTls, streamGet } from "./stream.js";
import {
  isNotTlsError,
  isTlsError,
  isTlsServerAnswer,
  type RegistryEndpoint,
  registryCAs,
  registryEndpoints,
  trustedCAs,
} from "./transport.js";

export interface RegistryClientOptions {
  /**
   * docker's insecure-registries: HTTPS without certificate verification, then
   * plain HTTP (localhost/127.0.0.1 fall back to plain HTTP without it).
   */
  insecure?: boolean;
  signal?: AbortSignal;
  /** Environment for the Docker config file and credential helpers. */
  env?: NodeJS.ProcessEnv;
  /** Credentials to use; `null` for anonymous only; looked up in the Docker config when absent. */
  credentials?: RegistryCredentials | null;
  /** Attempts after the first on 5xx, 429 and connection resets (default 4). */
  retries?: number;
  /** First backoff delay; doubled at each attempt (default 250 ms). */
  backoffMs?: number;
}

/** A request body that can be sent again (after a 401 or a retry). */
export type ReplayableBody = Buffer | (() => Readable);

export interface RegistryRequest {
  method?: string;
  accept?: string;
  headers?: Record<string, string>;
  body?: ReplayableBody;
  /** Token scope actions needed: `pull` (default) or `pull,push`. */
  actions?: string;
  /** More token scopes, e.g. `repository:other:pull` for a cross-repository mount. */
  extraScopes?: string[];
  /** Statuses returned to the caller instead of thrown (besides 2xx). */
  allow?: number[];
}

const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
const RETRY_ERRNO = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);

type FetchFn = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** An endpoint with the fetch that reaches it (Node's own, or undici's with a TLS-configured Agent). */
interface Connection extends RegistryEndpoint {
  fetch: FetchFn;
  /** The TLS settings for Node's own clients (streamGet). */
  tls: StreamTls;
}

function errCode(e: unknown): string | undefined {
  const c = (e as { cause?: { code?: string } }).cause;
  return c?.code ?? (e as { code?: string }).code;
}

/** A client for one registry; it keeps tokens per scope for its lifetime. */
export class RegistryClient {
  private connectionList?: Promise<Connection[]>;
  private chosen?: Connection;
  /** The endpoint tried last when none answered yet (named in errors). */
  private tried?: RegistryEndpoint;
  private creds: RegistryCredentials | null | undefined;
  private credsLooked = false;
  private basicWanted = false;
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly registry: string,
    private readonly opts: RegistryClientOptions = {},
  ) {
    this.creds = opts.credentials;
    this.credsLooked = opts.credentials !== undefined;
  }

  /** The registry's base URL: the endpoint that answered, else the first one to try. */
  get base(): string {
    return (
      this.chosen?.base ?? this.tried?.base ?? registryEndpoints(this.registry, this.opts.insecure)[0]!.base
    );
  }

  /** `/v2/<repo>/<path>`, or an absolute URL (an upload's `Location`) resolved against the registry. */
  url(repo: string, path: string, base = this.base): string {
    if (/^https?:\/\//.test(path)) return path;
    if (path.startsWith("/")) return `${base}${path}`;
    return `${base}/v2/${repo}/${path}`;
  }

  private connections(): Promise<Connection[]> {
    this.connectionList ??= (async () => {
      const env = this.opts.env ?? process.env;
      const extra = await registryCAs(this.registry, env);
      return await Promise.all(
        registryEndpoints(this.registry, this.opts.insecure).map(async (ep): Promise<Connection> => {
          if (!ep.base.startsWith("https:") || (ep.verify && !extra)) {
            return { ...ep, fetch: globalThis.fetch, tls: { verify: ep.verify } };
          }
          // Node's fetch takes no TLS options: undici's own Agent carries them.
          // The bundled CLI sees this CommonJS module's exports only as `default`.
          const loaded = await import("undici");
          const undici = (loaded as unknown as { default?: typeof loaded }).default ?? loaded;
          const ca = ep.verify ? await trustedCAs(extra!.pems, env) : undefined;
          const dispatcher = new undici.Agent({
            connect: { rejectUnauthorized: ep.verify, ...(ca ? { ca } : {}) },
          });
          const f = undici.fetch as unknown as FetchFn;
          return {
            ...ep,
            fetch: (url, init) => f(url, { ...init, dispatcher } as RequestInit),
            tls: { verify: ep.verify, ...(ca ? { ca } : {}) },
          };
        }),
      );
    })();
    return this.connectionList;
  }

  /**
   * Fetch over the chosen connection; before one answered, try each in turn,
   * moving on only for the failures the endpoint allows (docker's fallback).
   */
  private async fetchVia(repo: string, path: string, init: RequestInit, fresh: () => RequestInit) {
    if (this.chosen) return await this.chosen.fetch(this.url(repo, path, this.chosen.base), init);
    const list = await this.connections();
    for (let i = 0; ; i++) {
      const c = list[i]!;
      this.tried = c;
      const last = i + 1 >= list.length;
      let res: Response;
      try {
        res = await c.fetch(this.url(repo, path, c.base), i === 0 ? init : fresh());
      } catch (e) {
        const falls =
          c.fallbackOn === "tls"
            ? isTlsError(e) || isNotTlsError(e)
            : c.fallbackOn === "tls-server" && isNotTlsError(e);
        if (!falls || last) throw e;
        continue;
      }
      if (c.fallbackOn === "tls-server" && res.status === 400 && !last) {
        const text = await res.text().catch(() => "");
        // A HEAD's answer has no body to tell: ask the API root with a GET.
        const probe =
          text ||
          (await c
            .fetch(`${c.base}/v2/`, { signal: this.opts.signal })
            .then(async (r) => (r.status === 400 ? await r.text() : ""))
            .catch(() => ""));
        if (isTlsServerAnswer(res.status, probe)) continue;
        res = new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers });
      }
      this.chosen = c;
      return res;
    }
  }

  /**
   * A GET streamed with Node's own client (large blob bodies), once an
   * earlier request chose the endpoint and authenticated: a 2xx (or a 416)
   * answer is returned; anything else (401 after a token expired, a redirect
   * to storage, an error) returns undefined, and the caller uses `request`,
   * which handles it. Connection failures are thrown as by `request`.
   */
  async streamGet(
    repo: string,
    path: string,
    headers: Record<string, string> = {},
  ): Promise<import("node:http").IncomingMessage | undefined> {
    const c = this.chosen;
    if (!c) return undefined;
    const auth = this.authorization([`repository:${repo}:pull`]);
    let res: import("node:http").IncomingMessage;
    try {
      res = await streamGet(
        this.url(repo, path, c.base),
        { ...headers, ...(auth ? { authorization: auth } : {}) },
        c.tls,
        this.opts.signal,
      );
    } catch (e) {
      // A reset is the caller's to retry (it resumes); other failures are reported by `request`.
      if (RETRY_ERRNO.has(errCode(e) ?? "")) throw e;
      return undefined;
    }
    const status = res.statusCode ?? 0;
    if ((status >= 200 && status < 300) || status === 416) return res;
    res.resume();
    return undefined;
  }

  /** Send a request, authenticating and retrying as needed; throws a `REGISTRY_*` KilnError. */
  async request(repo: string, path: string, req: RegistryRequest = {}): Promise<Response> {
    const method = req.method ?? "GET";
    const scopes = [`repository:${repo}:${req.actions ?? "pull"}`, ...(req.extraScopes ?? [])];
    const retries = this.opts.retries ?? 4;
    let authed = false;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.send(repo, path, method, req, scopes);
      } catch (e) {
        if (attempt < retries && RETRY_ERRNO.has(errCode(e) ?? "")) {
          await this.backoff(attempt);
          continue;
        }
        throw unreachableError(this.errorContext, this.url(repo, path), e);
      }
      if (res.status === 401 && !authed) {
        authed = true;
        await res.body?.cancel();
        await this.authenticate(res.headers.get("www-authenticate") ?? "", scopes, repo);
        attempt--;
        continue;
      }
      if (RETRY_STATUS.has(res.status) && attempt < retries) {
        await res.body?.cancel();
        await this.backoff(attempt, res.headers.get("retry-after"));
        continue;
      }
      if (res.ok || req.allow?.includes(res.status)) return res;
      throw await statusError(this.errorContext, res, repo, method, path, req.actions ?? "pull");
    }
  }

  private async send(
    repo: string,
    path: string,
    method: string,
    req: RegistryRequest,
    scopes: string[],
  ): Promise<Response> {
    const headers: Record<string, string> = { ...req.headers };
    if (req.accept) headers.accept = req.accept;
    const auth = this.authorization(scopes);
    if (auth) headers.authorization = auth;
    const init = (): RequestInit => {
      const body = typeof req.body === "function" ? req.body() : req.body;
      return {
        method,
        headers,
        redirect: "follow",
        signal: this.opts.signal,
        ...(body !== undefined
          ? { body: body as unknown as NonNullable<RequestInit["body"]>, duplex: "half" }
          : {}),
      } as RequestInit;
    };
    return await this.fetchVia(repo, path, init(), init);
  }

  private authorization(scopes: string[]): string | undefined {
    const token = this.tokens.get(scopes.join(" "));
    if (token) return `Bearer ${token}`;
    if (this.basicWanted && this.creds) {
      return `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password}`).toString("base64")}`;
    }
    return undefined;
  }

  private async credentials(): Promise<RegistryCredentials | null> {
    if (!this.credsLooked) {
      this.credsLooked = true;
      this.creds = (await findCredentials(this.registry, this.opts.env)) ?? null;
    }
    return this.creds ?? null;
  }

  /** Answer a 401's challenge: Basic with the credentials found, or a Bearer token for the scopes. */
  private async authenticate(header: string, scopes: string[], repo: string): Promise<void> {
    const creds = await this.credentials();
    const challenge = parseBearerChallenge(header);
    if (challenge?.realm) {
      this.tokens.set(scopes.join(" "), await this.fetchToken(challenge, scopes, creds, repo));
      return;
    }
    if (/^\s*Basic/i.test(header) && creds) {
      this.basicWanted = true;
      return;
    }
    // No way to authenticate: the retried request answers 401 again and is reported.
  }

  private async fetchToken(
    c: Record<string, string>,
    scopes: string[],
    creds: RegistryCredentials | null,
    repo: string,
  ): Promise<string> {
    const url = new URL(c.realm!);
    if (c.service) url.searchParams.set("service", c.service);
    for (const s of scopes) url.searchParams.append("scope", s);
    const headers: Record<string, string> = {};
    if (creds) {
      headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
    }
    let res: Response;
    try {
      // The realm is reached with the registry's TLS settings (docker uses one transport for both).
      const f = url.protocol === "https:" && this.chosen ? this.chosen.fetch : globalThis.fetch;
      res = await f(url, { headers, signal: this.opts.signal });
    } catch (e) {
      throw unreachableError(this.errorContext, url.href, e);
    }
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!res.ok || !token) {
      throw new KilnError(
        res.status === 403 ? "REGISTRY_DENIED" : "REGISTRY_UNAUTHORIZED",
        `token service ${url.origin} refused ${creds ? `the credentials from ${creds.source}` : "an anonymous token"} for ${this.registry}/${repo} (HTTP ${res.status})`,
        { hint: credentialsHint(this.registry) },
      );
    }
    return token;
  }

  private async backoff(attempt: number, retryAfter?: string | null): Promise<void> {
    const asked = retryAfter && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : 0;
    const ms = Math.min(Math.max(asked, (this.opts.backoffMs ?? 250) * 2 ** attempt), 10_000);
    await new Promise((r) => setTimeout(r, ms));
  }

  private get errorContext(): ErrorContext {
    return { registry: this.registry, creds: this.creds, insecure: this.opts.insecure };
  }
}
