/**
 * `kiln pkg export` / `kiln pkg import`: a package as an OCI image layout in
 * one tar file (`oci-layout`, `index.json`, `blobs/sha256/…`; what
 * `skopeo copy … oci-archive:FILE` reads and writes). Import checks every
 * blob against the digest its name claims and names a reference only once
 * everything it needs is in the store.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { extract, pack } from "tar-stream";
import { KilnError } from "../core/errors.js";
import { produceAtomically } from "../core/fs.js";
import { type Descriptor, MEDIA } from "../core/registry/oci.js";
import { ANNOTATION } from "./media.js";
import { canonicalPackageRef, parsePackageReference } from "./platform.js";
import type { PackageStore } from "./store.js";

/** Write the stored `refText` (and everything it needs that is stored) to `outPath` as an OCI layout tar. */
export async function exportPackage(
  store: PackageStore,
  refText: string,
  outPath: string,
): Promise<{ ref: string; blobs: number }> {
  const ref = canonicalPackageRef(refText);
  const top = await store.resolve(ref);
  if (!top)
    throw new KilnError("PKG_NOT_FOUND", `no package ${ref} in ${store.root}`, {
      hint: "kiln pkg ls lists them",
    });
  const digests = [...new Set((await store.closure(top)).map((d) => d.digest))];
  const present: string[] = [];
  for (const d of digests) if (await store.hasBlob(d)) present.push(d);
  const tag = parsePackageReference(ref).reference;
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA.ociIndex,
    // ref.name is the tag (as skopeo's oci: transport names images); the full name rides in containerd's key.
    manifests: [{ ...top, annotations: { [ANNOTATION.refName]: tag, [ANNOTATION.containerdName]: ref } }],
  };
  await produceAtomically(outPath, async (tmp) => {
    const p = pack();
    const done = pipeline(Readable.from(p as unknown as AsyncIterable<Buffer>), createWriteStream(tmp));
    const add = (name: string, text: string) => p.entry({ name, mode: 0o644, mtime: new Date(0) }, text);
    add("oci-layout", JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    add("index.json", JSON.stringify(index));
    for (const d of present) {
      const path = store.blobPath(d);
      const { size } = await stat(path);
      const entry = p.entry({ name: `blobs/sha256/${d.slice(7)}`, size, mode: 0o644, mtime: new Date(0) });
      await pipeline(createReadStream(path), entry);
    }
    p.finalize();
    await done;
  });
  return { ref, blobs: present.length };
}

/** Read an OCI layout tar into the store; returns the references it named. `name` names an unnamed image. */
export async function importPackage(store: PackageStore, archive: string, name?: string): Promise<string[]> {
  await store.init();
  let index: { manifests?: Descriptor[] } | undefined;
  let layout = false;
  const ex = extract();
  ex.on("entry", (header, stream, next) => {
    const n = header.name.replace(/^\.\//, "");
    const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(n);
    const finish = (p: Promise<unknown>) =>
      p.then(
        () => next(),
        (e: unknown) => ex.destroy(e as Error),
      );
    if (m && header.type === "file") {
      finish(store.putStream(stream as unknown as Readable, `sha256:${m[1]}`));
    } else if (n === "index.json" || n === "oci-layout") {
      const chunks: Buffer[] = [];
      stream.on("data", (c: unknown) => chunks.push(c as Buffer));
      stream.on("end", () => {
        try {
          const doc = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          if (n === "index.json") index = doc;
          else layout = true;
          next();
        } catch (e) {
          ex.destroy(
            new KilnError("PKG_BAD_ARCHIVE", `${archive}: ${n} is not JSON: ${(e as Error).message}`),
          );
        }
      });
    } else {
      stream.on("end", () => next());
      stream.resume();
    }
  });
  try {
    await pipeline(createReadStream(archive), ex);
  } catch (e) {
    if (e instanceof KilnError) throw e;
    throw new KilnError("PKG_BAD_ARCHIVE", `${archive} is not a readable tar file: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (!layout || !index?.manifests) {
    throw new KilnError(
      "PKG_BAD_ARCHIVE",
      `${archive} is not an OCI image layout (no oci-layout or index.json)`,
      {
        hint: "kiln pkg export and skopeo copy … oci-archive:FILE make one",
      },
    );
  }
  const refs: string[] = [];
  for (const d of index.manifests) {
    const a = d.annotations ?? {};
    const named = name ?? a[ANNOTATION.containerdName] ?? a[ANNOTATION.refName];
    if (!named) {
      throw new KilnError("PKG_BAD_ARCHIVE", `${archive}: image ${d.digest} has no name`, {
        hint: "give one with --name REF",
      });
    }
    // A bare tag (skopeo's ref.name) is not a full reference: name it with --name.
    if (
      !named.includes("/") &&
      !named.includes(":") &&
      name === undefined &&
      a[ANNOTATION.containerdName] === undefined
    ) {
      throw new KilnError("PKG_BAD_ARCHIVE", `${archive}: image ${d.digest} is only tagged "${named}"`, {
        hint: "give its full name with --name REF",
      });
    }
    const ref = canonicalPackageRef(named);
    for (const c of await store.closure(d)) {
      if (!(await store.hasBlob(c.digest)) && c.digest === d.digest) {
        throw new KilnError("PKG_BAD_ARCHIVE", `${archive} lacks blob ${c.digest} that ${ref} needs`);
      }
    }
    await store.setRef(ref, { mediaType: d.mediaType, digest: d.digest, size: d.size });
    refs.push(ref);
  }
  return refs;
}
