/**
 * Local container images: an OCI image layout directory (image-spec
 * layout.md: `oci-layout`, `index.json`, `blobs/<alg>/<hex>`) and a
 * `docker save` archive (`manifest.json` listing each image's layer tars).
 * Both resolve to an ordered list of layer files applied with whiteouts.
 */
import { readFile, realpath } from "node:fs/promises";
import { join, relative } from "node:path";
import { errnoCode, KilnError } from "../../core/errors.js";
import type { Reporter } from "../../core/output.js";
import { applyTarFile, type PendingDirs, pendingDirs } from "../layers.js";
import { emptyTree, type StagedTree } from "../tree.js";
import { isIndex, type Platform, parseManifest, selectManifest, splitDigest } from "./oci-manifest.js";

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new KilnError(
      "ROOTFS_BAD_IMAGE",
      errnoCode(e) === "ENOENT"
        ? `${what} is missing (${path})`
        : `cannot read ${what}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new KilnError("ROOTFS_BAD_IMAGE", `${what} is not valid JSON (${path})`, { cause: e });
  }
}

/** A path inside `root` named by an image's metadata, refusing escapes (`../`, symlinks out). */
async function inside(root: string, rel: string, what: string): Promise<string> {
  const real = await realpath(join(root, rel)).catch(() => {
    throw new KilnError("ROOTFS_BAD_IMAGE", `${what} "${rel}" is missing from the image`);
  });
  const r = relative(await realpath(root), real);
  if (r.startsWith("..") || r.startsWith("/")) {
    throw new KilnError("ROOTFS_PATH_ESCAPE", `${what} "${rel}" points outside the image directory`);
  }
  return real;
}

/** Layer files, in order, of the image in an OCI layout directory. */
export async function ociLayoutLayers(dir: string, platform: Platform): Promise<string[]> {
  const blob = (digest: string) => {
    const { algorithm, hex } = splitDigest(digest);
    return inside(dir, `blobs/${algorithm}/${hex}`, "blob");
  };
  let doc = await readJson(join(dir, "index.json"), "the OCI layout's index.json");
  let where = `${dir}/index.json`;
  for (let depth = 0; isIndex(doc); depth++) {
    if (depth > 4) throw new KilnError("ROOTFS_BAD_IMAGE", `${where}: indexes nested too deeply`);
    const chosen = selectManifest(doc.manifests, platform, where);
    where = chosen.digest;
    doc = await readJson(await blob(chosen.digest), `manifest ${chosen.digest}`);
  }
  const manifest = parseManifest(doc, where);
  return Promise.all(manifest.layers.map((l) => blob(l.digest)));
}

/** Layer files, in order, of the first image in an extracted `docker save` archive. */
export async function dockerArchiveLayers(dir: string, reporter?: Reporter): Promise<string[]> {
  const doc = await readJson(join(dir, "manifest.json"), "the archive's manifest.json");
  if (!Array.isArray(doc) || doc.length === 0 || !Array.isArray(doc[0]?.Layers)) {
    throw new KilnError(
      "ROOTFS_BAD_IMAGE",
      `manifest.json of the docker archive lists no image with "Layers"`,
    );
  }
  if (doc.length > 1) {
    const tags = (doc[0].RepoTags as string[] | undefined)?.join(", ") ?? "untagged";
    reporter?.warn(`the archive holds ${doc.length} images; using the first (${tags})`);
  }
  return Promise.all((doc[0].Layers as string[]).map((l) => inside(dir, l, "layer")));
}

/** Apply `layers` in order into `tree`, with whiteouts. */
export async function applyLayers(
  layers: string[],
  tree: StagedTree,
  opts: { reporter?: Reporter; signal?: AbortSignal; names?: string[]; maxFileBytes?: number },
  dirs: PendingDirs = pendingDirs(),
): Promise<PendingDirs> {
  for (const [i, layer] of layers.entries()) {
    const name = opts.names?.[i] ?? relative(process.cwd(), layer);
    await applyTarFile(layer, tree, dirs, {
      whiteouts: true,
      label: `layer ${i + 1}/${layers.length} (${name})`,
      reporter: opts.reporter,
      signal: opts.signal,
      ...(opts.maxFileBytes !== undefined ? { maxFileBytes: opts.maxFileBytes } : {}),
    });
  }
  return dirs;
}

/**
 * Extract a `docker save` archive into `workDir` (a plain tar, applied with
 * the same containment rules as a layer), so its layers can be read.
 */
export async function extractArchive(path: string, workDir: string, signal?: AbortSignal): Promise<void> {
  await applyTarFile(path, emptyTree(workDir), pendingDirs(), { whiteouts: false, label: path, signal });
}
