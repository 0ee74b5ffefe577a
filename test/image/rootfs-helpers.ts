/**
 * Helpers for root filesystem tests: tarballs and OCI layouts built with
 * tar-stream, and readers over real e2fsprogs/erofs-utils output.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";

export interface TarEntry {
  name: string;
  type?: "file" | "directory" | "symlink" | "link" | "character-device" | "block-device" | "fifo";
  content?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

/** A tar archive (Buffer) holding `entries`, in order. */
export async function makeTar(entries: TarEntry[]): Promise<Buffer> {
  const p = pack();
  const collected = collect(p);
  for (const e of entries) {
    const type = e.type ?? "file";
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === "directory" ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: new Date(1_700_000_000_000),
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      ...(e.devmajor !== undefined ? { devmajor: e.devmajor, devminor: e.devminor ?? 0 } : {}),
    };
    await new Promise<void>((res, rej) =>
      type === "file"
        ? p.entry(header, e.content ?? "", (err) => (err ? rej(err) : res()))
        : p.entry(header, (err) => (err ? rej(err) : res())),
    );
  }
  p.finalize();
  return collected;
}

/** All bytes of a stream (start it before writing to the stream). */
export async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function sha256(b: Buffer | string): string {
  return createHash("sha256").update(b).digest("hex");
}

/**
 * Write an OCI image layout at `dir` whose single manifest has `layers`
 * (gzip-compressed), as `skopeo copy … oci:DIR` would.
 */
export async function makeOciLayout(dir: string, layers: TarEntry[][]): Promise<void> {
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  const blob = (b: Buffer) => {
    const hex = sha256(b);
    writeFileSync(join(dir, "blobs", "sha256", hex), b);
    return { digest: `sha256:${hex}`, size: b.length };
  };
  const diffIds: string[] = [];
  const layerDescs = [];
  for (const l of layers) {
    const tar = await makeTar(l);
    diffIds.push(`sha256:${sha256(tar)}`);
    layerDescs.push({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...blob(gzipSync(tar)) });
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: {},
      rootfs: { type: "layers", diff_ids: diffIds },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...blob(config) },
      layers: layerDescs,
    }),
  );
  const m = blob(manifest);
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          ...m,
          annotations: { "org.opencontainers.image.ref.name": "1" },
          platform: { architecture: "amd64", os: "linux" },
        },
      ],
    }),
  );
}

/** `debugfs -R CMD IMAGE` output (stdout). */
export function debugfs(image: string, cmd: string): string {
  return execFileSync("debugfs", ["-R", cmd, image], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Parsed `debugfs -R 'ls -l DIR'`: name → { mode (octal string), uid, gid }. */
export function ext4Ls(image: string, dir: string): Map<string, { mode: string; uid: number; gid: number }> {
  const out = new Map<string, { mode: string; uid: number; gid: number }>();
  for (const line of debugfs(image, `ls -l ${dir}`).split("\n")) {
    const m = /^\s*\d+\s+(\d+)\s+\(\d+\)\s+(\d+)\s+(\d+)\s+.*\s(\S+)\s*$/.exec(line);
    if (m) out.set(m[4]!, { mode: m[1]!, uid: Number(m[2]), gid: Number(m[3]) });
  }
  return out;
}

/** Run `e2fsck -fn` and return its exit code (0 = clean). */
export function e2fsckClean(image: string): { code: number; output: string } {
  try {
    const output = execFileSync("e2fsck", ["-fn", image], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return { code: 0, output };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, output: `${err.stdout}${err.stderr}` };
  }
}

/**
 * A `docker save` archive (Buffer): `<id>/layer.tar` per layer and a
 * `manifest.json` listing them in order, as Docker's legacy layout has it.
 */
export async function makeDockerArchive(layers: TarEntry[][]): Promise<Buffer> {
  const p = pack();
  const collected = collect(p);
  const add = (name: string, body: Buffer | string) =>
    new Promise<void>((res, rej) => p.entry({ name }, body, (e) => (e ? rej(e) : res())));
  const names: string[] = [];
  for (const l of layers) {
    const tar = await makeTar(l);
    const name = `${sha256(tar)}/layer.tar`;
    names.push(name);
    await add(name, tar);
  }
  await add("manifest.json", JSON.stringify([{ Config: "config.json", RepoTags: ["t/t:1"], Layers: names }]));
  p.finalize();
  return collected;
}
