/**
 * Kiln's package store: an OCI image layout (image-spec image-layout.md) in
 * `$XDG_DATA_HOME/kiln/oci` — `oci-layout`, `index.json`, `blobs/sha256/<hex>`
 * — so `skopeo`, `umoci` and `oras` read it as it is (`oci:<dir>:<ref>`).
 *
 * Safe for concurrent Kiln processes: a blob is written to a temporary file
 * beside its final place, checked against its digest and renamed (atomic, and
 * two writers of the same content rename the same bytes); `index.json` is
 * rewritten (temp file + rename) only under a cross-process lock
 * (`proper-lockfile`, as the machine store uses). A download in progress
 * lives in `ingest/<hex>.partial` so an interrupted pull resumes from it.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import lockfile from "proper-lockfile";
import { errnoCode, KilnError } from "../core/errors.js";
import { tempPathFor, writeFileAtomic } from "../core/fs.js";
import { type Descriptor, isIndex, MEDIA, sha256Digest, splitDigest } from "../core/registry/oci.js";
import { ANNOTATION } from "./media.js";

/** One reference in the store: its name and the index (or manifest) it points at. */
export interface StoreRef {
  /** Canonical reference, `REGISTRY/REPO:TAG`. */
  ref: string;
  descriptor: Descriptor;
}

interface LayoutIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

const LOCK_OPTS = {
  retries: { retries: 200, factor: 1.2, minTimeout: 10, maxTimeout: 200 },
  stale: 15_000,
  realpath: false,
};

/** Blobs younger than this are never collected: another process may be about to reference them. */
const GC_GRACE_MS = 10 * 60_000;

/** The package store at `root` (see the module comment). */
export class PackageStore {
  constructor(readonly root: string) {}

  /** The store under a Kiln data directory (`kilnDirs().dataDir`). */
  static inDataDir(dataDir: string): PackageStore {
    return new PackageStore(join(dataDir, "oci"));
  }

  blobPath(digest: string): string {
    return join(this.root, "blobs", "sha256", splitDigest(digest).hex);
  }

  /** Where a download of `digest` in progress is kept. */
  partialPath(digest: string): string {
    return join(this.root, "ingest", `${splitDigest(digest).hex}.partial`);
  }

  async hasBlob(digest: string): Promise<boolean> {
    return stat(this.blobPath(digest)).then(
      (s) => s.isFile(),
      () => false,
    );
  }

  /** Create `oci-layout` and the blob directory if they are missing. */
  async init(): Promise<void> {
    await mkdir(join(this.root, "blobs", "sha256"), { recursive: true });
    await mkdir(join(this.root, "ingest"), { recursive: true });
    const layout = join(this.root, "oci-layout");
    if (!(await stat(layout).catch(() => undefined))) {
      await writeFileAtomic(layout, JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    }
  }

  /** Store bytes as a blob; returns its descriptor (digest, size). */
  async putBytes(data: string | Uint8Array, mediaType?: string): Promise<Descriptor> {
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    const digest = sha256Digest(bytes);
    if (!(await this.hasBlob(digest))) {
      await this.init();
      await writeFileAtomic(this.blobPath(digest), bytes);
    }
    return { ...(mediaType ? { mediaType } : {}), digest, size: bytes.length };
  }

  /** Store a JSON document as a blob (serialized once: its digest is of these exact bytes). */
  async putJson(doc: unknown, mediaType: string): Promise<Descriptor> {
    return await this.putBytes(JSON.stringify(doc), mediaType);
  }

  /**
   * Store a stream as a blob: written to a temporary file while hashed, then
   * renamed to its digest. With `expected`, a different digest is refused
   * (`PKG_DIGEST_MISMATCH`) and nothing enters the store.
   */
  async putStream(src: Readable, expected?: string): Promise<Descriptor> {
    await this.init();
    const tmp = tempPathFor(join(this.root, "blobs", "sha256", "incoming"));
    const hash = createHash("sha256");
    let size = 0;
    try {
      src.on("data", (c: Buffer) => {
        hash.update(c);
        size += c.length;
      });
      await pipeline(src, createWriteStream(tmp));
      const digest = `sha256:${hash.digest("hex")}`;
      if (expected !== undefined && digest !== expected) {
        throw new KilnError("PKG_DIGEST_MISMATCH", `blob ${expected} has digest ${digest}`, {
          hint: "the content was altered on the way or at rest; nothing of it was stored",
        });
      }
      await rename(tmp, this.blobPath(digest));
      return { digest, size };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Store a file's content as a blob. */
  async putFile(path: string): Promise<Descriptor> {
    return await this.putStream(createReadStream(path));
  }

  async readBlob(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest));
    } catch (e) {
      if (errnoCode(e) === "ENOENT") {
        throw new KilnError("PKG_BLOB_MISSING", `the store has no blob ${digest}`, {
          hint: `the package is incomplete in ${this.root}; pull it again`,
        });
      }
      throw e;
    }
  }

  async readJson<T>(digest: string): Promise<T> {
    return JSON.parse((await this.readBlob(digest)).toString("utf8")) as T;
  }

  private async readIndex(): Promise<LayoutIndex> {
    const text = await readFile(join(this.root, "index.json"), "utf8").catch(() => undefined);
    if (text === undefined) return { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [] };
    return JSON.parse(text) as LayoutIndex;
  }

  /** Every reference in the store. */
  async refs(): Promise<StoreRef[]> {
    const index = await this.readIndex();
    return index.manifests
      .filter((d) => d.annotations?.[ANNOTATION.refName])
      .map((d) => ({ ref: d.annotations![ANNOTATION.refName]!, descriptor: d }));
  }

  /** The descriptor a reference points at, or undefined. */
  async resolve(ref: string): Promise<Descriptor | undefined> {
    return (await this.refs()).find((r) => r.ref === ref)?.descriptor;
  }

  /** Run `fn` holding the store's lock (serializes `index.json` updates across processes). */
  async locked<T>(fn: () => Promise<T>): Promise<T> {
    await this.init();
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(this.root, { ...LOCK_OPTS, lockfilePath: join(this.root, "index.lock") });
    } catch (e) {
      throw new KilnError(
        "PKG_STORE_LOCKED",
        `could not lock the package store ${this.root}: ${(e as Error).message}`,
        {
          cause: e,
          hint: "another kiln command holds it; retry in a moment",
        },
      );
    }
    try {
      return await fn();
    } finally {
      await release();
    }
  }

  /** Point `ref` at `descriptor` (replacing what it pointed at), atomically. */
  async setRef(ref: string, descriptor: Descriptor): Promise<void> {
    await this.updateRef(ref, async () => descriptor);
  }

  /**
   * Point `ref` at what `make(previous)` returns, all under the lock: two
   * processes adding platforms to one reference both end up in it.
   */
  async updateRef(
    ref: string,
    make: (previous: Descriptor | undefined) => Promise<Descriptor>,
  ): Promise<Descriptor> {
    return await this.locked(async () => {
      const index = await this.readIndex();
      const descriptor = await make(index.manifests.find((d) => d.annotations?.[ANNOTATION.refName] === ref));
      index.manifests = index.manifests.filter((d) => d.annotations?.[ANNOTATION.refName] !== ref);
      index.manifests.push({
        ...descriptor,
        annotations: { ...descriptor.annotations, [ANNOTATION.refName]: ref },
      });
      await writeFileAtomic(join(this.root, "index.json"), `${JSON.stringify(index, null, 2)}\n`);
      return descriptor;
    });
  }

  /** Remove `ref`; returns false when it was not there. Blobs no reference needs are then collected. */
  async removeRef(ref: string): Promise<boolean> {
    const found = await this.locked(async () => {
      const index = await this.readIndex();
      const kept = index.manifests.filter((d) => d.annotations?.[ANNOTATION.refName] !== ref);
      if (kept.length === index.manifests.length) return false;
      index.manifests = kept;
      await writeFileAtomic(join(this.root, "index.json"), `${JSON.stringify(index, null, 2)}\n`);
      return true;
    });
    if (found) await this.collectGarbage();
    return found;
  }

  /** Every digest reachable from `root` (an index or manifest) that is present in the store. */
  async closure(root: Descriptor): Promise<Descriptor[]> {
    const out: Descriptor[] = [root];
    if (!(await this.hasBlob(root.digest))) return out;
    const isJson = root.mediaType === undefined || /json$/.test(root.mediaType);
    if (!isJson) return out;
    const doc = await this.readJson<{ manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] }>(
      root.digest,
    );
    if (isIndex(doc)) for (const m of doc.manifests) out.push(...(await this.closure(m)));
    else {
      if (doc.config) out.push(doc.config);
      out.push(...(doc.layers ?? []));
    }
    return out;
  }

  /** Remove blobs no reference reaches (older than a grace period, so concurrent writers are safe). */
  async collectGarbage(): Promise<number> {
    return await this.locked(async () => {
      const keep = new Set<string>();
      for (const r of await this.refs()) for (const d of await this.closure(r.descriptor)) keep.add(d.digest);
      const dir = join(this.root, "blobs", "sha256");
      let removed = 0;
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        if (!/^[a-f0-9]{64}$/.test(name) || keep.has(`sha256:${name}`)) continue;
        const s = await stat(join(dir, name)).catch(() => undefined);
        if (!s || Date.now() - s.mtimeMs < GC_GRACE_MS) continue;
        await rm(join(dir, name), { force: true });
        removed++;
      }
      return removed;
    });
  }
}
