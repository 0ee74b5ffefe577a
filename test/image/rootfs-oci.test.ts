/**
 * Container images from disk: an OCI image layout and a `docker save`
 * archive, layers applied in order with whiteouts and opaque directories.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { collect, makeOciLayout, makeTar, type TarEntry } from "./rootfs-helpers.js";

/** Lower layer: a base tree. */
const LOWER: TarEntry[] = [
  { name: "etc/", type: "directory" },
  { name: "etc/keep", content: "kept from layer 1\n" },
  { name: "etc/gone", content: "deleted by layer 2\n" },
  { name: "opt/", type: "directory" },
  { name: "opt/app/", type: "directory" },
  { name: "opt/app/old-1", content: "hidden by the opaque dir\n" },
  { name: "opt/app/sub/", type: "directory" },
  { name: "opt/app/sub/old-2", content: "hidden too\n" },
  { name: "var/", type: "directory" },
  { name: "var/cache/", type: "directory" },
  { name: "var/cache/blob", content: "whole directory whited out\n" },
];

/** Upper layer: whiteouts, an opaque directory (marker after a new entry), a replaced file. */
const UPPER: TarEntry[] = [
  { name: "etc/.wh.gone", content: "" },
  { name: "opt/app/new", content: "added by layer 2\n" },
  { name: "opt/app/.wh..wh..opq", content: "" },
  { name: "var/.wh.cache", content: "" },
  { name: "etc/keep", content: "replaced by layer 2\n", mode: 0o600 },
  { name: "bin/", type: "directory" },
  { name: "bin/sh", type: "symlink", linkname: "busybox" },
];

/** Extract an EROFS image and list its tree as `path` lines (dirs with a trailing /). */
function erofsTree(image: string, dir: string): { list: string[]; root: string } {
  const root = join(dir, "x");
  execFileSync("fsck.erofs", [`--extract=${root}`, image], { stdio: "pipe" });
  const list: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      list.push(e.isDirectory() ? `${p}/` : p);
      if (e.isDirectory()) walk(p);
    }
  };
  walk("");
  return { list, root };
}

const EXPECTED = ["bin/", "bin/sh", "etc/", "etc/keep", "opt/", "opt/app/", "opt/app/new", "var/"];

test("OCI layout with two layers: whiteouts and an opaque directory are honoured", async (t) => {
  const dir = scratchDir(t);
  const layout = join(dir, "layout");
  await makeOciLayout(layout, [LOWER, UPPER]);
  const out = join(dir, "img.erofs");
  const r = await runKiln(["rootfs", "build", layout, "-o", out, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).sourceKind, "oci-layout");
  const { list, root } = erofsTree(out, dir);
  assert.deepEqual(list, EXPECTED);
  assert.equal(readFileSync(join(root, "etc/keep"), "utf8"), "replaced by layer 2\n");
  assert.equal(readFileSync(join(root, "opt/app/new"), "utf8"), "added by layer 2\n");
  // A platform the layout lacks is refused, listing what it has.
  const arm = await runKiln([
    "rootfs",
    "build",
    layout,
    "-o",
    join(dir, "arm.erofs"),
    "--platform",
    "linux/arm64",
  ]);
  assert.equal(arm.code, 1);
  assert.match(arm.stderr, /has no image for linux\/arm64/);
  assert.match(arm.stderr, /available: linux\/amd64/);
  assert.ok(!existsSync(join(dir, "arm.erofs")));
});

test("docker save archive (manifest.json, layer.tar files, a symlinked layer) → ext4", async (t) => {
  const dir = scratchDir(t);
  const l1 = await makeTar(LOWER);
  const l2 = await makeTar(UPPER);
  const id = (b: Buffer) => createHash("sha256").update(b).digest("hex");
  const third = await makeTar([{ name: "etc/motd", content: "third layer\n" }]);
  // Docker's legacy layout: <id>/layer.tar per layer; a repeated layer is a symlink to another copy.
  // (Layers are binary, so entries are added with Buffers rather than through makeTar.)
  const { pack } = await import("tar-stream");
  const p = pack();
  const collected = collect(p);
  const add = (name: string, body: Buffer | string, extra: object = {}) =>
    new Promise<void>((res, rej) => p.entry({ name, ...extra }, body, (e) => (e ? rej(e) : res())));
  for (const [layer, file] of [
    [l1, "layer.tar"],
    [l2, "layer.tar"],
    [third, "real.tar"],
  ] as const) {
    await add(`${id(layer)}/${file}`, layer);
  }
  p.entry({ name: `${id(third)}/layer.tar`, type: "symlink", linkname: "real.tar" });
  await add(
    "manifest.json",
    JSON.stringify([
      {
        Config: "config.json",
        RepoTags: ["test/img:1"],
        Layers: [`${id(l1)}/layer.tar`, `${id(l2)}/layer.tar`, `${id(third)}/layer.tar`],
      },
    ]),
  );
  p.finalize();
  const tar = join(dir, "saved.tar");
  writeFileSync(tar, await collected);
  const out = join(dir, "img.ext4");
  const r = await runKiln(["rootfs", "build", tar, "-o", out, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).sourceKind, "docker-archive");
  const ls = (d: string) =>
    execFileSync("debugfs", ["-R", `ls ${d}`, out], { encoding: "utf8", stdio: "pipe" })
      .split(/\s+/)
      .filter((n) => n && !/^\d+$/.test(n) && !n.startsWith("(") && n !== "." && n !== "..")
      .sort();
  assert.deepEqual(ls("/"), ["bin", "etc", "lost+found", "opt", "var"]);
  assert.deepEqual(ls("/etc"), ["keep", "motd"]);
  assert.deepEqual(ls("/opt/app"), ["new"]);
  assert.deepEqual(ls("/var"), []);
  const cat = execFileSync("debugfs", ["-R", "cat /etc/motd", out], { encoding: "utf8", stdio: "pipe" });
  assert.equal(cat, "third layer\n");
});
