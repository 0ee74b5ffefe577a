/**
 * Pull an image over the OCI distribution API (distribution-spec spec.md):
 * `GET /v2/<name>/manifests/<ref>` with an Accept for indexes and manifests,
 * anonymous bearer tokens on 401 (Docker's token spec: the
 * `WWW-Authenticate: Bearer realm=…,service=…,scope=…` challenge), the
 * platform chosen from an index, and blobs downloaded once into a
 * content-addressed cache (`<cacheDir>/blobs/sha256/<hex>`), each verified
 * against its digest before it is used — so a second build works offline.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { access, mkdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { isKilnError, KilnError } from "../../core/errors.js";
import { tempPathFor, writeFileAtomic } from "../../core/fs.js";
import type { Reporter } from "../../core/output.js";
import { formatBytes } from "../../core/units.js";
import {
  type Descriptor,
  formatPlatform,
  isIndex,
  MANIFEST_ACCEPT,
  type Platform,
  parseManifest,
  selectManifest,
  splitDigest,
} from "./oci-manifest.js";

/** An image reference split into its parts. */
export interface ImageReference {
  /** Host (and port) as written, e.g. `127.0.0.1:5000`. */
  registry: string;
  /** Repository, e.g. `test/img`. */
  repository: string;
  /** Tag or `sha256:…` digest. */
  reference: string;
}

/**
 * Parse `REGISTRY/NAME[:TAG][@DIGEST]` with Docker's grammar
 * (distribution's `reference.ParseNormalizedNamed`): the first component is
 * a registry when it has a `.` or `:` or is `localhost`. The tag defaults to
 * `latest`. Unlike Docker, Kiln implies no public registry for a name
 * without a host: it uses `defaultRegistry` (`KILN_REGISTRY`) or refuses,
 * since a Kiln machine may reach only its own registry.
 */
export function parseImageReference(text: string, defaultRegistry?: string): ImageReference {
  const m = /^([^@]+?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/.exec(text);
  const bad = () =>
    new KilnError("ROOTFS_BAD_REFERENCE", `image reference "${text}" is not REGISTRY/NAME[:TAG][@DIGEST]`, {
      hint: "for example: docker://127.0.0.1:5000/test/img:1",
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
    throw new KilnError("ROOTFS_NO_REGISTRY", `image reference "${text}" names no registry host`, {
      hint: `write the registry first, e.g. docker://127.0.0.1:5000/${name}${m[2] ? `:${m[2]}` : ""}, or set KILN_REGISTRY=HOST[:PORT] for names without one (Kiln implies no public registry)`,
    });
  }
  if (tag === undefined && m[3] === undefined) tag = "latest";
  return { registry, repository: name, reference: m[3] ?? tag! };
}

/** Base URL of a registry's API: plain HTTP for loopback hosts or when insecure. */
export function registryBaseUrl(registry: string, insecure = false): string {
  const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(registry);
  return `${loopback || insecure ? "http" : "https"}://${registry}`;
}

/** Parse a `WWW-Authenticate: Bearer k="v",…` challenge (pure). */
export function parseBearerChallenge(header: string): Record<string, string> | undefined {
  const m = /^\s*Bearer\s+(.*)$/i.exec(header);
  if (!m) return undefined;
  const out: Record<string, string> = {};
  for (const p of m[1]!.matchAll(/([a-zA-Z_]+)="([^"]*)"/g)) out[p[1]!.toLowerCase()] = p[2]!;
  return out;
}

export interface PullOptions {
  platform: Platform;
  cacheDir: string;
  insecure?: boolean;
  /** The registry for a name without a host (`KILN_REGISTRY`); none by default. */
  defaultRegistry?: string;
  reporter?: Reporter;
  signal?: AbortSignal;
}

export interface PulledImage {
  /** Digest of the platform's manifest. */
  manifestDigest: string;
  /** Layer blobs in order, as cached files. */
  layers: { digest: string; path: string; sizeBytes?: number }[];
}

class RegistryClient {
  private token: string | undefined;
  constructor(
    private readonly ref: ImageReference,
    private readonly base: string,
    private readonly signal?: AbortSignal,
  ) {}

  async get(path: string, accept?: string): Promise<Response> {
    let res = await this.fetch(path, accept);
    if (res.status === 401 && this.token === undefined) {
      const challenge = parseBearerChallenge(res.headers.get("www-authenticate") ?? "");
      if (challenge?.realm) {
        await res.body?.cancel();
        this.token = await this.fetchToken(challenge);
        res = await this.fetch(path, accept);
      }
    }
    if (!res.ok) {
      await res.body?.cancel();
      const what = `${this.ref.registry}/${this.ref.repository}`;
      throw new KilnError(
        "ROOTFS_REGISTRY",
        res.status === 404
          ? `${what}: ${path.startsWith("manifests/") ? `no image "${this.ref.reference}"` : "blob not found"} (HTTP 404)`
          : `${what}: GET ${path} answered HTTP ${res.status}`,
        {
          hint:
            res.status === 401 || res.status === 403
              ? "Kiln pulls anonymously; the image may be private"
              : undefined,
        },
      );
    }
    return res;
  }

  private async fetch(path: string, accept?: string): Promise<Response> {
    const headers: Record<string, string> = {};
    if (accept) headers.accept = accept;
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const url = `${this.base}/v2/${this.ref.repository}/${path}`;
    try {
      return await fetch(url, { headers, signal: this.signal });
    } catch (e) {
      throw unreachable(this.ref.registry, url, e);
    }
  }

  private async fetchToken(c: Record<string, string>): Promise<string> {
    const url = new URL(c.realm!);
    if (c.service) url.searchParams.set("service", c.service);
    url.searchParams.set("scope", c.scope ?? `repository:${this.ref.repository}:pull`);
    let res: Response;
    try {
      res = await fetch(url, { signal: this.signal });
    } catch (e) {
      throw unreachable(this.ref.registry, url.href, e);
    }
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!res.ok || !token) {
      throw new KilnError(
        "ROOTFS_REGISTRY",
        `token service ${url.origin} refused an anonymous token (HTTP ${res.status})`,
      );
    }
    return token;
  }
}

function unreachable(registry: string, url: string, e: unknown): KilnError {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return new KilnError(
    "ROOTFS_REGISTRY_UNREACHABLE",
    `cannot reach registry ${registry} (${url}): ${cause?.code ?? cause?.message ?? (e as Error).message}`,
    {
      cause: e,
      hint: "check the name and the network; a registry on localhost/127.0.0.1 is spoken to over plain HTTP",
    },
  );
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

/** Pull `ref`'s manifest for the platform and its layers into the cache. */
export async function pullImage(refText: string, opts: PullOptions): Promise<PulledImage> {
  const ref = parseImageReference(refText, opts.defaultRegistry);
  const client = new RegistryClient(ref, registryBaseUrl(ref.registry, opts.insecure), opts.signal);
  const record = join(
    opts.cacheDir,
    "refs",
    `${encodeURIComponent(`${ref.registry}/${ref.repository}:${ref.reference}@${formatPlatform(opts.platform)}`)}.json`,
  );
  let resolved: { digest: string; doc: unknown };
  try {
    const online = await resolveManifest(client, ref.reference, refText, opts.platform);
    resolved = online;
    await writeFileAtomic(
      join(opts.cacheDir, "blobs", "sha256", splitDigest(online.digest).hex),
      online.body,
    );
    await writeFileAtomic(
      record,
      JSON.stringify({ digest: resolved.digest, savedAt: new Date().toISOString() }),
    );
  } catch (e) {
    // Offline: reuse the manifest this reference resolved to last time (its blobs are cached by digest).
    if (!isKilnError(e, "ROOTFS_REGISTRY_UNREACHABLE")) throw e;
    const saved = await readFile(record, "utf8").then(
      (t) => JSON.parse(t) as { digest: string; savedAt: string },
      () => undefined,
    );
    if (!saved) throw e;
    const text = await readFile(
      join(opts.cacheDir, "blobs", "sha256", splitDigest(saved.digest).hex),
      "utf8",
    ).catch(() => undefined);
    if (text === undefined) throw e;
    opts.reporter?.warn(
      `${e.message}; using the cached manifest ${saved.digest} that ${refText} resolved to on ${saved.savedAt}`,
    );
    resolved = { digest: saved.digest, doc: JSON.parse(text) };
  }
  const { digest, doc } = resolved;
  const manifest = parseManifest(doc, refText);
  const blobDir = join(opts.cacheDir, "blobs", "sha256");
  await mkdir(blobDir, { recursive: true });
  const total = manifest.layers.reduce((n, l) => n + (l.size ?? 0), 0);
  const progress = opts.reporter?.progress("pull");
  let doneBytes = 0;
  const layers: PulledImage["layers"] = [];
  for (const layer of manifest.layers) {
    const path = join(blobDir, splitDigest(layer.digest).hex);
    if (!(await exists(path))) {
      await downloadBlob(client, layer, path, (n) => {
        doneBytes += n;
        progress?.update(`${formatBytes(doneBytes)} of ${formatBytes(total)}`);
      });
    } else doneBytes += layer.size ?? 0;
    layers.push({ digest: layer.digest, path, sizeBytes: layer.size });
  }
  progress?.done(`${refText}: ${manifest.layers.length} layer(s), ${formatBytes(total)}`);
  return { manifestDigest: digest, layers };
}

/** Follow a reference through indexes to the platform's image manifest. */
async function resolveManifest(
  client: RegistryClient,
  start: string,
  refText: string,
  platform: Platform,
): Promise<{ digest: string; doc: unknown; body: Buffer }> {
  let reference = start;
  for (let depth = 0; ; depth++) {
    const res = await client.get(`manifests/${reference}`, MANIFEST_ACCEPT);
    const body = Buffer.from(await res.arrayBuffer());
    const digest = `sha256:${createHash("sha256").update(body).digest("hex")}`;
    if (reference.startsWith("sha256:") && reference !== digest) {
      throw new KilnError("ROOTFS_DIGEST_MISMATCH", `manifest ${reference} downloaded with digest ${digest}`);
    }
    const doc: unknown = JSON.parse(body.toString("utf8"));
    if (!isIndex(doc)) return { digest, doc, body };
    if (depth > 2) throw new KilnError("ROOTFS_BAD_IMAGE", `${refText}: indexes nested too deeply`);
    reference = selectManifest(doc.manifests, platform, refText).digest;
  }
}

/** Download one blob to `path`, verifying its sha256 before renaming it into the cache. */
async function downloadBlob(
  client: RegistryClient,
  d: Descriptor,
  path: string,
  onBytes: (n: number) => void,
) {
  const res = await client.get(`blobs/${d.digest}`);
  const tmp = tempPathFor(path);
  const hash = createHash("sha256");
  try {
    const body = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>);
    body.on("data", (c: Buffer) => {
      hash.update(c);
      onBytes(c.length);
    });
    await pipeline(body, createWriteStream(tmp));
    const got = `sha256:${hash.digest("hex")}`;
    if (got !== d.digest) {
      throw new KilnError("ROOTFS_DIGEST_MISMATCH", `blob ${d.digest} downloaded with digest ${got}`, {
        hint: "the registry or a proxy served different content; nothing was cached",
      });
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
