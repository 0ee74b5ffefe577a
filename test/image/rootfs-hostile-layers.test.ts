/**
 * Issue 9 item 1: image layers whose whiteouts or opaque markers would reach
 * outside the root. The opaque-directory cleanup must not follow a directory
 * that a later entry turned into a symlink to the host, and whiteouts naming
 * `.`/`..` are refused, in OCI layouts and in `docker save` archives alike.
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { makeDockerArchive, makeOciLayout, type TarEntry } from "./rootfs-helpers.js";

/** A host directory with files a hostile layer would like to delete. */
function hostDir(dir: string): string {
  const outside = join(dir, "host-dir");
  mkdirSync(join(outside, "sub"), { recursive: true });
  writeFileSync(join(outside, "precious"), "keep me\n");
  writeFileSync(join(outside, "sub", "also"), "keep me too\n");
  return outside;
}

async function source(dir: string, kind: "oci" | "docker", layers: TarEntry[][]): Promise<string> {
  if (kind === "oci") {
    const layout = join(dir, "layout");
    await makeOciLayout(layout, layers);
    return layout;
  }
  const tar = join(dir, "saved.tar");
  writeFileSync(tar, await makeDockerArchive(layers));
  return tar;
}

for (const kind of ["oci", "docker"] as const) {
  test(`opaque marker then a symlink to a host directory deletes nothing on the host (${kind})`, async (t) => {
    const dir = scratchDir(t);
    const outside = hostDir(dir);
    const layers: TarEntry[][] = [
      [
        { name: "a/", type: "directory" },
        { name: "a/lower", content: "lower\n" },
      ],
      [
        { name: "a/", type: "directory" },
        { name: "a/.wh..wh..opq", content: "" },
        { name: "a", type: "symlink", linkname: outside },
      ],
    ];
    const src = await source(dir, kind, layers);
    const r = await runKiln(["rootfs", "build", src, "-o", join(dir, "img.cpio")]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(outside).sort(), ["precious", "sub"]);
    assert.deepEqual(readdirSync(join(outside, "sub")), ["also"]);
    // In the image, `a` is the symlink the layer asked for.
    const ls = await runKiln(["rootfs", "ls", join(dir, "img.cpio"), "-l"]);
    assert.match(ls.stdout, new RegExp(`a -> ${outside.replace(/[/.]/g, "\\$&")}`));
    assert.doesNotMatch(ls.stdout, /lower|precious/);
  });

  for (const wh of [".wh...", "d/.wh...", ".wh..", "d/.wh."]) {
    test(`a whiteout named "${wh}" is refused and deletes nothing (${kind})`, async (t) => {
      const dir = scratchDir(t);
      const outside = hostDir(dir);
      const layers: TarEntry[][] = [
        [
          { name: "d/", type: "directory" },
          { name: "d/f", content: "x\n" },
        ],
        [{ name: wh, content: "" }],
      ];
      const src = await source(dir, kind, layers);
      const out = join(dir, "out");
      mkdirSync(out);
      const r = await runKiln(["rootfs", "build", src, "-o", join(out, "img.ext4")]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`^error: entry "${wh.replace(/[.]/g, "\\.")}" in .* is a whiteout for`, "m"),
      );
      assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, "no stack trace");
      assert.deepEqual(readdirSync(out), []);
      assert.deepEqual(readdirSync(outside).sort(), ["precious", "sub"]);
    });
  }
}
