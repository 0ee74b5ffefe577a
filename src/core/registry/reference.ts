/**
 * Image references and registry addresses, as Docker spells them (pure).
 */
import { KilnError } from "../errors.js";

/** An image reference split into its parts. */
export interface ImageReference {
  /** Host (and port) as written, e.g. `127.0.0.1:5000`. */
  registry: string;
  /** Repository, e.g. `library/alpine`. */
  repository: string;
  /** Tag or `sha256:…` digest. */
  reference: string;
}

/**
 * Parse `REGISTRY/NAME[:TAG][@DIGEST]` with Docker's grammar
 * (distribution's `reference.ParseNormalizedNamed`): the first component is
 * a registry when it has a `.` or `:` or is `localhost`. The tag defaults to
 * `latest`. Unlike Docker, Kiln implies no public registry for a name
 * without a host: it uses `defaultRegistry` (`KILN_REGISTRY`) or refuses
 * (`NO_REGISTRY`), since a Kiln machine may reach only its own registry.
 * Throws `BAD_REFERENCE` for text that is no reference.
 */
export function parseImageReference(text: string, defaultRegistry?: string): ImageReference {
  const m = /^([^@]+?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/.exec(text);
  const bad = () =>
    new KilnError("BAD_REFERENCE", `image reference "${text}" is not REGISTRY/NAME[:TAG][@DIGEST]`, {
      hint: "for example: 127.0.0.1:5000/test/img:1",
    });
  if (!m) throw bad();
  let name = m[1]!;
  let tag = m[2];
  // `host:5000/name` without a tag: the regex took `5000/name` as no tag only if it has a slash.
  if (tag === undefined && /:[^/]*$/.test(name)) throw bad();
  const parts = name.split("/");
  let registry = defaultRegistry;
  if (parts.length > 1 && (/[.:]/.test(parts[0]!) || parts[0] === "localhost")) {
    registry = parts.shift()!;
    name = parts.join("/");
  }
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(name)) throw bad();
  if (!registry) {
    throw new KilnError("NO_REGISTRY", `image reference "${text}" names no registry host`, {
      hint: `write the registry first, e.g. docker://127.0.0.1:5000/${name}${m[2] ? `:${m[2]}` : ""}, or set KILN_REGISTRY=HOST[:PORT] for names without one (Kiln implies no public registry)`,
    });
  }
  if (tag === undefined && m[3] === undefined) tag = "latest";
  return { registry, repository: name, reference: m[3] ?? tag! };
}

/** `REGISTRY/REPO:TAG` or `REGISTRY/REPO@DIGEST`: the canonical spelling of a reference. */
export function formatImageReference(r: ImageReference): string {
  return `${r.registry}/${r.repository}${r.reference.startsWith("sha256:") ? "@" : ":"}${r.reference}`;
}

/** True for `localhost`, `127.x.y.z` and `[::1]` (with any port): spoken to over plain HTTP, as docker does. */
export function isLoopbackRegistry(registry: string): boolean {
  return /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(registry);
}

/** Base URL of a registry's API: plain HTTP for loopback hosts or when insecure. */
export function registryBaseUrl(registry: string, insecure = false): string {
  return `${isLoopbackRegistry(registry) || insecure ? "http" : "https"}://${registry}`;
}

/** Parse a `WWW-Authenticate: Bearer k="v",…` challenge (pure). */
export function parseBearerChallenge(header: string): Record<string, string> | undefined {
  const m = /^\s*Bearer\s+(.*)$/i.exec(header);
  if (!m) return undefined;
  const out: Record<string, string> = {};
  for (const p of m[1]!.matchAll(/([a-zA-Z_]+)="([^"]*)"/g)) out[p[1]!.toLowerCase()] = p[2]!;
  return out;
}
