/**
 * The package store: Kiln processes packaging at once into one store (the
 * same reference on two platforms, and other references) all land, and the
 * layout stays readable by skopeo; export/import round-trips a package
 * through an OCI layout archive; rm removes it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { which } from "../../src/core/exec.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { buildMultibootStandin } from "../machine/guests.js";

const missing = ["gcc", "skopeo"].filter((t) => !which(t));

test("concurrent packaging into one store; export, import, rm", {
  skip: missing.length ? `missing ${missing.join(", ")}` : false,
}, async (t) => {
  const dir = scratchDir(t);
  const env = { KILN_HOME: join(dir, "home") };
  const kernel = buildMultibootStandin(dir);
  const jobs: [string, string][] = [
    ["localhost/apps/a:1", "qemu"],
    ["localhost/apps/a:1", "fc"],
    ["localhost/apps/a:1", "xen"],
    ["localhost/apps/b:1", "qemu"],
    ["localhost/apps/c:1", "qemu"],
  ];
  const results = await Promise.all(
    jobs.map(([ref, plat]) =>
      runKiln(["pkg", "--kernel", kernel, "--plat", plat, "--arch", "x86_64", "--name", ref], { env }),
    ),
  );
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const ls = JSON.parse((await runKiln(["pkg", "ls", "--json"], { env })).stdout) as {
    ref: string;
    platforms: string[];
  }[];
  assert.deepEqual(
    ls.map((p) => [p.ref, [...p.platforms].sort()]),
    [
      ["localhost/apps/a:1", ["fc/x86_64", "qemu/x86_64", "xen/x86_64"]],
      ["localhost/apps/b:1", ["qemu/x86_64"]],
      ["localhost/apps/c:1", ["qemu/x86_64"]],
    ],
  );
  // skopeo reads the store as the OCI layout it is.
  const store = join(dir, "home", "data", "oci");
  const raw = JSON.parse(
    execFileSync("skopeo", ["inspect", "--raw", `oci:${store}:localhost/apps/b:1`], { encoding: "utf8" }),
  ) as {
    manifests: unknown[];
  };
  assert.equal(raw.manifests.length, 1);

  // Export to an OCI layout archive, import into another store, run from there.
  const tar = join(dir, "a.tar");
  const ex = await runKiln(["pkg", "export", "localhost/apps/a:1", "-o", tar], { env });
  assert.equal(ex.code, 0, ex.stderr);
  const env2 = { KILN_HOME: join(dir, "home2") };
  const im = await runKiln(["pkg", "import", tar], { env: env2 });
  assert.equal(im.code, 0, im.stderr);
  assert.equal(im.stdout.trim(), "localhost/apps/a:1");
  const run = await runKiln(["run", "-W", "--rm", "localhost/apps/a:1", "--plat", "qemu", "-a", "exit=3"], {
    env: env2,
  });
  assert.equal(run.code, 3, run.stderr);
  assert.match(run.stdout, /KILN-MULTIBOOT-OK/);
  // skopeo reads the archive too.
  execFileSync("skopeo", ["inspect", "--raw", `oci-archive:${tar}`], { stdio: "pipe" });

  const rm = await runKiln(["pkg", "rm", "localhost/apps/b:1"], { env });
  assert.equal(rm.code, 0, rm.stderr);
  const rm2 = await runKiln(["pkg", "rm", "localhost/apps/b:1"], { env });
  assert.equal(rm2.code, 1);
  assert.match(rm2.stderr, /no package localhost\/apps\/b:1/);
  const bad = await runKiln(["pkg", "import", kernel], { env: env2 });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /PKG|not a readable tar|not an OCI image layout/);
});
