/**
 * Two targets of one architecture store their identical objects once
 * (src/unikraft/share.ts), and rebuilding one never changes the other's:
 * against the fixture core, whose objects (no debug information) come out
 * byte-identical across targets except where the configuration differs.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { targetArtifacts } from "../../src/unikraft/artifacts.js";
import { buildProject } from "../../src/unikraft/build.js";
import { SHARE_MANIFEST } from "../../src/unikraft/share.js";
import { scratchDir } from "../helpers/kiln.js";
import { fixtureProject, target } from "./fixture-project.js";

/** Every file of a build directory but Kiln's own (`.kiln-*`): path → bytes and mtime. */
function snapshot(dir: string): Map<string, { bytes: Buffer; mtimeMs: number }> {
  const out = new Map<string, { bytes: Buffer; mtimeMs: number }>();
  const visit = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) visit(p);
      else if (e.isFile() && !e.name.startsWith(".kiln-"))
        out.set(relative(dir, p), { bytes: readFileSync(p), mtimeMs: statSync(p).mtimeMs });
    }
  };
  visit(dir);
  return out;
}

test("identical objects of two x86_64 targets are shared; rebuilding one leaves the other's bytes as they were", async (t) => {
  const root = scratchDir(t);
  const project = fixtureProject(root, {
    targets: [
      target("hello-a", "qemu", "x86_64"),
      target("hello-b", "qemu", "x86_64", { CONFIG_LIBPOSIX_ENVIRON_ENVP0: '"WHO=b"' }),
    ],
  });
  // The fixture core generates version.h from it with `> $@`, writing in place as lib-musl does.
  writeFileSync(join(root, "lib-foo", "VERSION"), "1.0\n");
  const [ta, tb] = project.targets as [ReturnType<typeof target>, ReturnType<typeof target>];
  const a = targetArtifacts(project, ta);
  const b = targetArtifacts(project, tb);
  const built = await buildProject(project, {
    all: true,
    jobs: 2,
    env: { ...process.env, KILN_NO_SHARE: "" },
  });
  assert.deepEqual(
    built.map((r) => r.skippedMake),
    [false, false],
  );
  const sameInode = (rel: string) =>
    statSync(join(a.buildDir, rel)).ino === statSync(join(b.buildDir, rel)).ino;
  assert.ok(sameInode("libfoo/foo.o"), "the library's object is stored once");
  assert.ok(sameInode("libfoo/include/version.h"), "and its generated header");
  assert.ok(!sameInode("appapp/main.o"), "main.o differs (b prints its environment)");
  assert.ok(!sameInode("include/uk/config.h"), "the configurations differ");
  assert.notEqual(statSync(a.kernel).ino, statSync(b.kernel).ino, "images are never shared");
  assert.ok(JSON.parse(readFileSync(join(b.buildDir, SHARE_MANIFEST), "utf8")).files["libfoo/foo.o"]);

  // Sharing changed nothing a no-op rebuild looks at, and make itself finds
  // every object as new as its own build left it (each directory's mtimes are restored).
  const noop = await buildProject(project, { all: true, jobs: 2 });
  assert.deepEqual(
    noop.map((r) => r.skippedMake),
    [true, true],
  );
  const forced = await buildProject(project, { name: "hello-a", force: true, jobs: 2 });
  assert.equal(forced[0]?.steps, 0, "make had nothing to rebuild in a after unsharing");

  const before = snapshot(b.buildDir);
  writeFileSync(join(root, "lib-foo", "foo.c"), "int foo(void) { return 43; }\n");
  writeFileSync(join(root, "lib-foo", "VERSION"), "1.1\n");
  const [ra] = await buildProject(project, { name: "hello-a", jobs: 2 });
  assert.ok((ra?.steps ?? 0) > 0);
  assert.match(execFileSync(a.kernel, { encoding: "utf8" }), /Hello from fixture 43/);
  assert.match(readFileSync(join(a.buildDir, "libfoo/include/version.h"), "utf8"), /"1\.1"/);
  // b was not rebuilt: its objects and image are what its own build made.
  const after = snapshot(b.buildDir);
  assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
  for (const [rel, was] of before) {
    assert.ok(after.get(rel)!.bytes.equals(was.bytes), `${rel} of hello-b changed`);
  }
  assert.match(execFileSync(b.kernel, { encoding: "utf8" }), /Hello from fixture 42\nenv0=WHO=b/);
  assert.ok(!sameInode("libfoo/foo.o"), "foo.o differs now");
  // a's make ran, so sharing ran again: the core's objects are stored once as before.
  assert.notEqual(firstSharedCoreObject(a.buildDir, b.buildDir), undefined);

  const [rb] = await buildProject(project, { name: "hello-b", jobs: 2 });
  assert.ok((rb?.steps ?? 0) > 0);
  assert.match(execFileSync(b.kernel, { encoding: "utf8" }), /Hello from fixture 43\nenv0=WHO=b/);
  assert.ok(sameInode("libfoo/foo.o"), "identical again after both rebuilt");
});

function firstSharedCoreObject(a: string, b: string): string | undefined {
  for (const rel of snapshot(a).keys()) {
    if (rel.endsWith(".o") && !rel.startsWith("app") && !rel.startsWith("libfoo")) {
      if (statSync(join(a, rel)).ino === statSync(join(b, rel)).ino) return rel;
    }
  }
  return undefined;
}
