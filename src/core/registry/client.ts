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
import { parseBearerChallenge, registryBaseUrl } from "./reference.js";

export interface RegistryClientOptions {
  /** Plain HTTP for a registry that is not on localhost/127.0.0.1 (docker's insecure-registries). */
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

function errCode(e: unknown): string | undefined {
  const c = (e as { cause?: { code?: string } }).cause;
  return c?.code ?? (e as { code?: string }).code;
}

/** A client for one registry; it keeps tokens per scope for its lifetime. */
export class RegistryClient {
  readonly base: string;
  private creds: RegistryCredentials | null | undefined;
  private credsLooked = false;
  private basicWanted = false;
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly registry: string,
    private readonly opts: RegistryClientOptions = {},
  ) {
    this.base = registryBaseUrl(registry, opts.insecure);
    this.creds = opts.credentials;
    this.credsLooked = opts.credentials !== undefined;
  }

  /** `/v2/<repo>/<path>`, or an absolute URL (an upload's `Location`) resolved against the registry. */
  url(repo: string, path: string): string {
    if (/^https?:\/\//.test(path)) return path;
    if (path.startsWith("/")) return `${this.base}${path}`;
    return `${this.base}/v2/${repo}/${path}`;
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
        throw this.unreachable(this.url(repo, path), e);
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
      throw await this.statusError(res, repo, method, path, req.actions ?? "pull");
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
    const body = typeof req.body === "function" ? req.body() : req.body;
    return await fetch(this.url(repo, path), {
      method,
      headers,
      redirect: "follow",
      signal: this.opts.signal,
      ...(body !== undefined
        ? { body: body as unknown as NonNullable<RequestInit["body"]>, duplex: "half" }
        : {}),
    } as RequestInit);
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
      res = await fetch(url, { headers, signal: this.opts.signal });
    } catch (e) {
      throw this.unreachable(url.href, e);
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

  private async statusError(
    res: Response,
    repo: string,
    method: string,
    path: string,
    actions: string,
  ): Promise<KilnError> {
    const text = await res.text().catch(() => "");
    let detail = "";
    try {
      const errors = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors;
      if (errors?.length)
        detail = `: ${errors.map((e) => `${e.code ?? ""} ${e.message ?? ""}`.trim()).join("; ")}`;
    } catch {
      // not a distribution error body
    }
    const what = `${this.registry}/${repo}`;
    const where = path.replace(/^https?:\/\/[^/]+/, "").replace(/\?.*$/, "");
    const challenge = parseBearerChallenge(res.headers.get("www-authenticate") ?? "");
    if (res.status === 401 && challenge?.error === "insufficient_scope") {
      // A token was issued but without the actions asked (distribution's token
      // access controller answers 401 insufficient_scope, docs/spec/auth/token.md).
      const scope = challenge.scope ?? `repository:${repo}:${actions}`;
      return new KilnError(
        "REGISTRY_DENIED",
        `${what}: the token service ${challenge.realm ? new URL(challenge.realm).origin : ""} did not grant "${scope}" to ${this.creds ? `the account from ${this.creds.source}` : "anonymous access"} (${method} ${where}, HTTP 401 insufficient_scope)`.replace(
          / {2}/g,
          " ",
        ),
        {
          hint: /push/.test(scope)
            ? "the account may pull but not push to this repository: use an account with write access"
            : "the account has no access to this repository",
        },
      );
    }
    if (res.status === 401) {
      return new KilnError(
        "REGISTRY_UNAUTHORIZED",
        `${what}: ${this.creds ? `the credentials from ${this.creds.source} were refused` : "authentication required"} for ${method} ${where} (HTTP 401)`,
        { hint: credentialsHint(this.registry) },
      );
    }
    if (res.status === 403) {
      return new KilnError(
        "REGISTRY_DENIED",
        `${what}: ${method} ${where} is forbidden (HTTP 403)${detail}`,
        {
          hint: "the account has no right to this repository (push needs write access)",
        },
      );
    }
    if (res.status === 404) {
      const m = /^manifests\/(.+)$/.exec(path);
      const b = /^blobs\/(sha256:[a-f0-9]+)$/.exec(path);
      return new KilnError(
        "REGISTRY_NOT_FOUND",
        m
          ? `${what}: no image "${m[1]}" (HTTP 404)`
          : b
            ? `${what}: blob ${b[1]} not found (HTTP 404)`
            : `${what}: ${method} ${where} not found (HTTP 404)`,
        { hint: m ? "check the name and tag (kiln pkg ls lists local packages)" : undefined },
      );
    }
    return new KilnError("REGISTRY_HTTP", `${what}: ${method} ${where} answered HTTP ${res.status}${detail}`);
  }

  private unreachable(url: string, e: unknown): KilnError {
    const code = errCode(e);
    const cause = (e as { cause?: { message?: string } }).cause;
    const why = code ?? cause?.message ?? (e as Error).message;
    if (/CERT|SSL|TLS|SELF_SIGNED|wrong version number|packet length/i.test(`${code} ${cause?.message}`)) {
      return new KilnError("REGISTRY_TLS", `TLS with registry ${this.registry} (${url}) failed: ${why}`, {
        cause: e,
        hint: "a registry that speaks plain HTTP needs --insecure; a private CA goes in NODE_EXTRA_CA_CERTS",
      });
    }
    return new KilnError("REGISTRY_UNREACHABLE", `cannot reach registry ${this.registry} (${url}): ${why}`, {
      cause: e,
      hint: "check the name and the network; a registry on localhost/127.0.0.1 is spoken to over plain HTTP",
    });
  }
}

function credentialsHint(registry: string): string {
  return `Kiln reads credentials for ${registry} from ~/.docker/config.json (auths, credHelpers, credsStore; DOCKER_CONFIG moves it), as docker login writes them`;
}
