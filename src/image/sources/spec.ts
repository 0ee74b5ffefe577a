/**
 * What `kiln rootfs build SRC` was given. `parseSourceSpec` reads the text
 * (pure); `detectSource` looks at a path's content to tell a directory, an
 * OCI layout, a `docker save` archive and a plain tarball apart.
 */
import { createReadStream } from "node:fs";
import { access, open, stat } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extract } from "tar-stream";
import { errnoCode, KilnError } from "../../core/errors.js";
import { fileTypeName } from "../../core/fs.js";

export type SourceSpec =
  | { kind: "directory"; path: string }
  | { kind: "tarball"; path: string }
  | { kind: "oci-layout"; path: string }
  | { kind: "docker-archive"; path: string }
  | { kind: "registry"; ref: string }
  | { kind: "debian"; distro: "debian" | "ubuntu"; suite: string };

/** A source as typed: `docker://REF`, `debian:SUITE`, `ubuntu:SUITE`, or a path (kind still unknown). */
export type ParsedSource =
  | Exclude<SourceSpec, { kind: "directory" | "tarball" | "oci-layout" | "docker-archive" }>
  | {
      kind: "path";
      path: string;
    };

/** Parse SRC text (pure). */
export function parseSourceSpec(text: string): ParsedSource {
  if (text.startsWith("docker://")) {
    const ref = text.slice("docker://".length);
    if (!ref)
      throw new KilnError("ROOTFS_BAD_SOURCE", `source "${text}" has no image reference after docker://`);
    return { kind: "registry", ref };
  }
  const m = /^(debian|ubuntu):(.*)$/.exec(text);
  if (m) {
    if (!/^[a-z][a-z0-9.-]*$/.test(m[2]!)) {
      throw new KilnError("ROOTFS_BAD_SOURCE", `suite "${m[2]}" in "${text}" is not a suite name`, {
        hint: "for example: debian:bookworm, ubuntu:jammy",
      });
    }
    return { kind: "debian", distro: m[1] as "debian" | "ubuntu", suite: m[2]! };
  }
  return { kind: "path", path: text };
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

/** Names a `docker save` archive holds (legacy layout and the OCI layout Docker ≥ 25 adds). */
const DOCKER_ARCHIVE_NAME =
  /^(manifest\.json|repositories|index\.json|oci-layout|blobs(\/.*)?|[a-f0-9]{64}(\.json|\/.*)?)\/?$/;

/**
 * Decide what a path holds: a directory with `oci-layout` is an OCI layout,
 * another directory is a root tree; a tar with a top-level `manifest.json`
 * or `oci-layout` (and only image-archive names) is a `docker save`
 * archive; any other tar or tar.gz is a root tree tarball.
 */
export async function detectSource(path: string): Promise<SourceSpec> {
  const st = await stat(path).catch((e: unknown) => {
    throw new KilnError(
      "ROOTFS_BAD_SOURCE",
      errnoCode(e) === "ENOENT"
        ? `source "${path}" does not exist`
        : `cannot read source "${path}": ${(e as Error).message}`,
      {
        hint: "give a directory, a .tar/.tar.gz, an OCI layout, a docker save archive, docker://REF or debian:SUITE",
      },
    );
  });
  if (!st.isDirectory() && !st.isFile()) {
    // Reading a FIFO or a device would block or never end (issue 9: a FIFO hung the build).
    throw new KilnError(
      "ROOTFS_BAD_SOURCE",
      `source "${path}" is ${fileTypeName(st)}, not a directory or an archive file`,
      {
        hint: "give a directory, a .tar/.tar.gz, an OCI layout, a docker save archive, docker://REF or debian:SUITE",
      },
    );
  }
  if (st.isDirectory()) {
    return (await exists(join(path, "oci-layout")))
      ? { kind: "oci-layout", path }
      : { kind: "directory", path };
  }
  return (await looksLikeDockerArchive(path)) ? { kind: "docker-archive", path } : { kind: "tarball", path };
}

async function looksLikeDockerArchive(path: string): Promise<boolean> {
  const fh = await open(path, "r");
  const head = Buffer.alloc(262);
  const { bytesRead } = await fh.read(head, 0, 262, 0);
  await fh.close();
  const gz = head[0] === 0x1f && head[1] === 0x8b;
  if (!gz && (bytesRead < 262 || head.toString("latin1", 257, 262) !== "ustar")) {
    throw new KilnError(
      "ROOTFS_BAD_SOURCE",
      `source "${path}" is neither a directory nor a tar or tar.gz archive`,
      {
        hint: "give a directory, a .tar/.tar.gz, an OCI layout, a docker save archive, docker://REF or debian:SUITE",
      },
    );
  }
  const ex = extract();
  let verdict = false;
  const done = new Error("done");
  const scan = (async () => {
    for await (const entry of ex) {
      const name = entry.header.name.replace(/^\.\//, "");
      if (name === "manifest.json" || name === "oci-layout") verdict = true;
      else if (!DOCKER_ARCHIVE_NAME.test(name)) {
        verdict = false;
        throw done; // a root-tree name: stop reading
      }
      entry.resume();
    }
  })();
  const input = createReadStream(path);
  try {
    await Promise.all([gz ? pipeline(input, createGunzip(), ex) : pipeline(input, ex), scan]);
  } catch (e) {
    input.destroy();
    ex.destroy();
    if (e !== done) {
      throw new KilnError(
        "ROOTFS_BAD_ARCHIVE",
        `cannot read "${path}" as a tar archive: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
  }
  return verdict;
}
