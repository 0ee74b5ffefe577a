/**
 * Network failures said as what they are — DNS, connection refused,
 * timeout, TLS, an HTTP status — with the URL, instead of a later symptom
 * (an empty cache "has no RELEASE tag"). Pure: error text in, one line out.
 *
 * Git's messages are curl's (`fatal: unable to access 'URL': Could not
 * resolve host: H`, `Failed to connect to H port P … Connection refused`,
 * `The requested URL returned error: 404`, `SSL certificate problem: …`);
 * Node's fetch reports `cause.code` (`ENOTFOUND`, `ECONNREFUSED`,
 * `UND_ERR_CONNECT_TIMEOUT`, `CERT_HAS_EXPIRED`, …).
 */

/** What kind of failure: for messages and for tests. */
export type NetFailureKind = "dns" | "refused" | "timeout" | "tls" | "http" | "not-a-repository" | "other";

export interface NetFailure {
  kind: NetFailureKind;
  /** What happened, one line: `DNS: cannot resolve host x.invalid`. */
  what: string;
  /** The same naming the URL: `DNS: cannot resolve host x.invalid (http://x.invalid/r.git)`. */
  text: string;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}

const TLS_CODES =
  /^(CERT_|ERR_TLS_|ERR_SSL_|UNABLE_TO_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED_CERT|HOSTNAME_MISMATCH)/;

/**
 * Classify a failure reading `url`: `text` is git's stderr (its last lines)
 * or Node's error code/message; `httpStatus` a response status, if any.
 */
export function describeNetFailure(url: string, text: string, httpStatus?: number): NetFailure {
  const host = hostOf(url);
  const line =
    text
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .pop() ?? "";
  const say = (kind: NetFailureKind, what: string): NetFailure => ({ kind, what, text: `${what} (${url})` });
  const status = httpStatus ?? Number(/returned error: (\d{3})/.exec(text)?.[1] ?? Number.NaN);
  if (Number.isFinite(status)) return say("http", `HTTP ${status}${status === 404 ? " Not Found" : ""}`);
  // Git over HTTP says a 404 this way (smart and dumb protocols alike).
  if (/^https?:/i.test(url) && /repository '[^']*' not found/.test(text)) {
    return say("http", "HTTP 404 Not Found: no git repository there");
  }
  if (
    /Could not resolve (host|hostname)|ENOTFOUND|EAI_AGAIN|Name or service not known|Temporary failure in name resolution/i.test(
      text,
    )
  ) {
    return say("dns", `DNS: cannot resolve host ${host.replace(/:\d+$/, "")}`);
  }
  if (/Connection refused|ECONNREFUSED|Couldn't connect to server/i.test(text)) {
    return say("refused", `connection refused by ${host}`);
  }
  if (/timed out|ETIMEDOUT|UND_ERR_CONNECT_TIMEOUT|UND_ERR_HEADERS_TIMEOUT|no response within/i.test(text)) {
    const within = /no response within [^)]*/.exec(text)?.[0];
    return say("timeout", `timed out talking to ${host}${within ? `: ${within}` : ""}`);
  }
  if (TLS_CODES.test(text.trim()) || /SSL|TLS|certificate|gnutls_handshake/i.test(text)) {
    return say("tls", `TLS: ${line.replace(/^fatal: unable to access '[^']*': /, "")}`);
  }
  if (
    /does not appear to be a git repository|not a git repository|repository '[^']*' not found/i.test(text)
  ) {
    return say("not-a-repository", "not a git repository");
  }
  return say("other", line.replace(/^fatal: /, "") || "failed");
}
