/**
 * `mkfs.ext4 -d` prints nothing while it copies a tree; Kiln reports the
 * image file's allocated bytes against what the finished image holds
 * (src/image/ext4-progress.ts). A 40,000-file tree keeps mkfs.ext4 busy for
 * several polls; the e2fsprogs used are the real ones.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { Reporter } from "../../src/core/output.js";
import {
  ext4ExpectedAllocatedBytes,
  ext4JournalBytes,
  ext4ProgressMessage,
} from "../../src/image/ext4-progress.js";
import { buildRootfs } from "../../src/index.js";
import { scratchDir } from "../helpers/kiln.js";
import { e2fsckClean } from "./rootfs-helpers.js";

test("the progress denominator follows mke2fs' journal sizes and never shows 100 % early", () => {
  assert.equal(ext4JournalBytes(64 << 20), 4 << 20);
  assert.equal(ext4JournalBytes(400 << 20), 16 << 20);
  assert.equal(ext4JournalBytes(1536 << 20), 32 << 20);
  assert.equal(ext4ExpectedAllocatedBytes(1000, 2000, 400 << 20), 1000 * 4096 + 2000 * 256 + (16 << 20));
  assert.equal(ext4ProgressMessage(50 << 20, 100 << 20), "mkfs.ext4: 50 MiB of ~100 MiB written (50%)");
  assert.match(ext4ProgressMessage(120 << 20, 100 << 20), /\(99%\)$/);
});

test("an ext4 build of a 40,000-file tree reports mkfs.ext4's progress as the image fills", async (t) => {
  const dir = scratchDir(t);
  const tree = join(dir, "tree");
  for (let d = 0; d < 200; d++) {
    mkdirSync(join(tree, `d${d}`), { recursive: true });
    for (let f = 0; f < 200; f++) writeFileSync(join(tree, `d${d}`, `f${f}`), `${d}/${f}\n`);
  }
  const updates: string[] = [];
  const dones: string[] = [];
  const reporter: Reporter = {
    info() {},
    warn() {},
    progress: (title) => ({
      update: (m) => {
        if (title === "ext4") updates.push(m);
      },
      done: (m) => {
        if (title === "ext4") dones.push(m ?? "");
      },
    }),
  };
  const started = Date.now();
  const out = join(dir, "big.ext4");
  await buildRootfs(tree, out, { reporter });
  t.diagnostic(
    `40,000-file ext4 build: ${Date.now() - started} ms, ${updates.length} updates, last: ${updates.at(-1)}`,
  );
  const lines = updates.filter((m) => m.startsWith("mkfs.ext4: "));
  assert.ok(lines.length >= 1, `no mkfs.ext4 progress among: ${JSON.stringify(updates)}`);
  const pcts = lines.map((m) => Number(/\((\d+)%\)$/.exec(m)?.[1]));
  assert.ok(
    pcts.every((p, i) => p >= 0 && p <= 99 && (i === 0 || p >= pcts[i - 1]!)),
    `percentages must grow and stay below 100: ${pcts.join(", ")}`,
  );
  // The denominator is the tree's ~40,000 data blocks (≥ 156 MiB) plus inodes and journal.
  assert.match(lines[0]!, /of ~(1[5-9]\d|[2-9]\d\d) MiB written/);
  assert.equal(dones.length, 1);
  assert.equal(e2fsckClean(out).code, 0);
});
