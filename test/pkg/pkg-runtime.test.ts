/**
 * A Kraftfile with `runtime:`: the runtime package (made here from the
 * Multiboot stand-in, stored as `base:latest` = `localhost/base:latest`)
 * gives the kernel, the project gives its rootfs directory, `cmd` and `env`.
 * `kiln build` packs the rootfs and checks the runtime; `kiln run` boots it;
 * `kiln pkg DIR` packages the result.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { which } from "../../src/core/exec.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { freePort } from "../helpers/registry.js";
import { buildMultibootStandin } from "../machine/guests.js";

const missing = ["gcc", "qemu-system-x86_64"].filter((t) => !which(t));

test("a runtime: project builds its rootfs, runs the project's cmd and env on the runtime's kernel, and packages", {
  skip: missing.length ? `missing ${missing.join(", ")}` : false,
}, async (t) => {
  const dir = scratchDir(t);
  const env = { KILN_HOME: join(dir, "home") };
  const kernel = buildMultibootStandin(dir);
  const rt = await runKiln(["pkg", "--kernel", kernel, "--name", "base:latest", "--cmd", "runtime-default"], {
    env,
  });
  assert.equal(rt.code, 0, rt.stderr);
  assert.match(rt.stdout, /^localhost\/base:latest qemu\/x86_64 /);

  const project = join(dir, "app");
  mkdirSync(join(project, "rootfs", "bin"), { recursive: true });
  writeFileSync(join(project, "rootfs", "bin", "app"), "#!/bin/sh\necho app\n");
  writeFileSync(
    join(project, "Kraftfile"),
    [
      "spec: v0.6",
      "name: rt-app",
      "runtime: base:latest",
      "rootfs: ./rootfs",
      'cmd: ["/bin/app", "--flag"]',
      "env:",
      "  APP_MODE: test",
      "",
    ].join("\n"),
  );
  const build = await runKiln(["build", project], { env });
  assert.equal(build.code, 0, build.stderr);
  assert.match(build.stdout, /runtime localhost\/base:latest/);
  const initrd = join(project, ".unikraft/build/initramfs-x86_64.cpio");
  const ls = await runKiln(["rootfs", "ls", initrd], { env });
  assert.match(ls.stdout, /^bin\/app$/m);

  const run = await runKiln(["run", "-W", "--rm", project, "-a", "exit=3"], { env });
  assert.equal(run.code, 3, `${run.stderr}\n${run.stdout}`);
  assert.match(run.stdout, /KILN-MULTIBOOT-OK/);
  assert.match(run.stdout, /env\.vars=\[ 'APP_MODE=test' \] -- \/bin\/app --flag/);

  // The project packaged: the runtime's kernel with the project's initrd and cmd, run by reference.
  const pkg = await runKiln(["pkg", project, "--name", "apps/rt-app:1"], { env });
  assert.equal(pkg.code, 0, pkg.stderr);
  const run2 = await runKiln(["run", "-W", "--rm", "apps/rt-app:1", "-a", "exit=3"], { env });
  assert.equal(run2.code, 3, run2.stderr);
  assert.match(run2.stdout, /-- \/bin\/app --flag/);
  const inspect = await runKiln(["pkg", "inspect", "apps/rt-app:1", "--json"], { env });
  const layers = (
    JSON.parse(inspect.stdout) as {
      manifests: { manifest: { layers: { annotations?: Record<string, string> }[] } }[];
    }
  ).manifests[0]!.manifest.layers;
  assert.ok(layers.some((l) => l.annotations?.["org.unikraft.kernel.initrd"] === "/unikraft/bin/initrd"));

  // A runtime that cannot be had is a clear error from kiln build.
  const other = join(dir, "other");
  mkdirSync(other);
  const port = await freePort();
  writeFileSync(
    join(other, "Kraftfile"),
    `spec: v0.6\nname: other\nruntime: 127.0.0.1:${port}/none:1\ncmd: ["/x"]\n`,
  );
  const bad = await runKiln(["build", other], { env });
  assert.equal(bad.code, 1);
  assert.match(
    bad.stderr,
    new RegExp(
      `runtime 127\\.0\\.0\\.1:${port}/none:1 of \\S+Kraftfile is not available: cannot reach registry`,
    ),
  );
});
