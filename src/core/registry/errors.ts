/**
 * The errors a registry exchange ends in, one per failure a user can act on:
 * 401 (with where credentials are read), 403 and a token without the scope
 * asked, 404 (no such image or blob), other statuses with the registry's
 * error codes, TLS problems with their fixes, an unreachable registry.
 */
import { KilnError } from "../errors.js";
import type { RegistryCredentials } from "./auth.js";
import { parseBearerChallenge } from "./reference.js";
import { isNotTlsError, isTlsError, rootReason } from "./transport.js";

/** What the messages name: the registry, the credentials used, whether --insecure was given. */
export interface ErrorContext {
  registry: string;
  creds: RegistryCredentials | null | undefined;
  insecure: boolean | undefined;
}

/** The error for a registry's non-2xx answer (`REGISTRY_UNAUTHORIZED`, `_DENIED`, `_NOT_FOUND`, `_HTTP`). */
export async function statusError(
  ctx: ErrorContext,
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
  const what = `${ctx.registry}/${repo}`;
  const where = path.replace(/^https?:\/\/[^/]+/, "").replace(/\?.*$/, "");
  const challenge = parseBearerChallenge(res.headers.get("www-authenticate") ?? "");
  if (res.status === 401 && challenge?.error === "insufficient_scope") {
    // A token was issued but without the actions asked (distribution's token
    // access controller answers 401 insufficient_scope, docs/spec/auth/token.md).
    const scope = challenge.scope ?? `repository:${repo}:${actions}`;
    return new KilnError(
      "REGISTRY_DENIED",
      `${what}: the token service ${challenge.realm ? new URL(challenge.realm).origin : ""} did not grant "${scope}" to ${ctx.creds ? `the account from ${ctx.creds.source}` : "anonymous access"} (${method} ${where}, HTTP 401 insufficient_scope)`.replace(
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
      `${what}: ${ctx.creds ? `the credentials from ${ctx.creds.source} were refused` : "authentication required"} for ${method} ${where} (HTTP 401)`,
      { hint: credentialsHint(ctx.registry) },
    );
  }
  if (res.status === 403) {
    return new KilnError("REGISTRY_DENIED", `${what}: ${method} ${where} is forbidden (HTTP 403)${detail}`, {
      hint: "the account has no right to this repository (push needs write access)",
    });
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
  return new KilnError(
    "REGISTRY_HTTP",
    `${what}: ${method} ${where} answered HTTP ${res.status}${detail}${res.status === 405 && res.headers.get("allow") ? ` (allowed: ${res.headers.get("allow")})` : ""}`,
    {
      ...(res.status === 405
        ? { hint: "the registry does not allow this operation (read-only, or a pull-through cache)" }
        : {}),
    },
  );
}

/** The error for a request that got no answer: `REGISTRY_TLS` or `REGISTRY_UNREACHABLE`. */
export function unreachableError(ctx: ErrorContext, url: string, e: unknown): KilnError {
  const why = rootReason(e) || (e as Error).message;
  if (
    url.startsWith("https:") &&
    isNotTlsError(e) &&
    /WRONG_VERSION|PACKET_LENGTH|wrong version|packet length/i.test(why)
  ) {
    const host = ctx.registry;
    return new KilnError(
      "REGISTRY_TLS",
      `registry ${host} (${url}) does not speak TLS: it answered the HTTPS handshake in plain HTTP`,
      {
        cause: e,
        hint: `Kiln speaks plain HTTP only to localhost/127.0.0.1 unless asked: pass --insecure to use plain HTTP with ${host} (docker's insecure-registries)`,
      },
    );
  }
  if (url.startsWith("https:") && isTlsError(e)) {
    const host = ctx.registry;
    return new KilnError("REGISTRY_TLS", `TLS with registry ${host} (${url}) failed: ${why}`, {
      cause: e,
      hint: ctx.insecure
        ? "the registry's TLS handshake failed even without verification"
        : `to trust the registry's certificate, put its CA in ~/.config/containers/certs.d/${host}/ca.crt (or /etc/docker/certs.d/${host}/, or a file named by NODE_EXTRA_CA_CERTS); --insecure skips verification`,
    });
  }
  return new KilnError("REGISTRY_UNREACHABLE", `cannot reach registry ${ctx.registry} (${url}): ${why}`, {
    cause: e,
    hint: "check the name, the port and the network (is the registry running?)",
  });
}

/** Where Kiln reads credentials for `registry`, for 401 hints. */
export function credentialsHint(registry: string): string {
  return `Kiln reads credentials for ${registry} from ~/.docker/config.json (auths, credHelpers, credsStore; DOCKER_CONFIG moves it), as docker login writes them`;
}
