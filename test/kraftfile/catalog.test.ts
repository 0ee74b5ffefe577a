/**
 * The real-world corpus: every Kraftfile of the Unikraft application
 * catalog (../shared/data/unikraft-catalog) loads without errors, except
 * the two empty ones, and a few files normalize to facts read off them.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join, relative } from "node:path";
import { test } from "node:test";
import { loadProject, readProject } from "../../src/kraftfile/index.js";
import { SHARED_DATA, sharedSkip } from "../helpers/kiln.js";

const CATALOG = join(SHARED_DATA, "unikraft-catalog");
const EMPTY = ["tests/os-demo", "tests/synthetic"];
const skip = sharedSkip("data/unikraft-catalog");

function catalogDirs(): string[] {
  const out = execFileSync("find", [CATALOG, "-name", "Kraftfile", "-type", "f"], { encoding: "utf8" });
  return out
    .trim()
    .split("\n")
    .map((f) => relative(CATALOG, f).replace(/\/Kraftfile$/, ""))
    .sort();
}

test("every catalog Kraftfile loads without errors; the two empty ones get a clear error", {
  skip,
}, async () => {
  const dirs = catalogDirs();
  assert.equal(dirs.length, 189);
  const kinds = { runtime: 0, template: 0, plain: 0 };
  for (const d of dirs) {
    const r = await readProject(join(CATALOG, d), { env: {} });
    const errors = r.diagnostics.filter((x) => x.severity === "error");
    if (EMPTY.includes(d)) {
      assert.equal(r.project, undefined, d);
      assert.equal(errors.length, 1, d);
      assert.equal(errors[0]!.code, "empty-file");
      assert.equal(`${errors[0]!.line}:${errors[0]!.col}`, "1:1");
      assert.match(errors[0]!.message, /the Kraftfile is empty/);
      continue;
    }
    assert.deepEqual(
      errors.map((e) => `${e.line}:${e.col} ${e.message}`),
      [],
      `${d} should load without errors`,
    );
    const p = r.project!;
    assert.equal(p.specification, "0.6", d);
    if (p.runtime !== undefined) {
      kinds.runtime++;
      assert.equal(p.unikraft, undefined, d);
      assert.equal(p.targets.length, 0, d);
    } else if (p.template) {
      kinds.template++;
      assert.ok(p.unikraft, `${d}: template projects here carry a unikraft block`);
      assert.ok(p.targets.length > 0, d);
    } else {
      kinds.plain++;
      assert.ok(p.unikraft && p.targets.length > 0, d);
    }
    for (const t of p.targets) {
      assert.match(
        t.name,
        new RegExp(`^${p.name.replace(/[.+]/g, "\\$&")}_(qemu|fc|xen)-(x86_64|arm64)$`),
        d,
      );
    }
  }
  // The data README's counts: 142 runtime, 33 template + unikraft, 12 plain unikraft.
  assert.deepEqual(kinds, { runtime: 142, template: 33, plain: 12 });
});

test("catalog: a runtime project keeps its runtime, rootfs and cmd", { skip }, async () => {
  const dir = join(CATALOG, "examples/flask3.0-python3.12");
  const { project: p } = await loadProject(dir, { env: {} });
  assert.equal(p.name, "flask3.0-python3.12");
  assert.equal(p.runtime, "python:3.12");
  assert.deepEqual(p.rootfs, { source: join(dir, "Dockerfile"), format: "cpio" });
  assert.deepEqual(p.cmd, ["/usr/bin/python3", "/app/server.py"]);
  assert.equal(p.outdir, join(dir, ".unikraft/build"));
});

test("catalog: a template project (caddy 2.10) resolves template, core, libraries and kconfig as written", {
  skip,
}, async () => {
  const dir = join(CATALOG, "library/caddy/2.10");
  const { project: p } = await loadProject(dir, { env: {} });
  assert.deepEqual(p.template?.source, {
    type: "git",
    url: "https://github.com/unikraft/app-elfloader.git",
    version: "staging",
  });
  assert.equal(p.template?.name, "elfloader");
  assert.deepEqual(p.unikraft?.source, {
    type: "git",
    url: "https://github.com/unikraft/unikraft.git",
    version: "staging",
  });
  const k = p.unikraft!.kconfig;
  assert.equal(k.CONFIG_APPELFLOADER_STACK_NBPAGES, "128");
  assert.equal(k.CONFIG_APPELFLOADER_VFSEXEC_EXECBIT, "n");
  // Numbers keep their spelling; strings become Kconfig string literals, as .config needs them.
  assert.equal(k.CONFIG_LIBUKBOOT_HEAP_BASE, "0x400000000");
  assert.equal(k.CONFIG_LIBUKVMEM_DEFAULT_BASE, "0x0000001000000000");
  assert.equal(k.CONFIG_LIBPOSIX_USER_USERNAME, '"root"');
  assert.equal(k.CONFIG_LIBPOSIX_ENVIRON_ENVP2, '"HOME=/"');
  assert.equal(k.CONFIG_LIBPOSIX_USER_UID, "0");
  assert.equal(k.CONFIG_STACK_SIZE_PAGE_ORDER, "4");
  assert.deepEqual(
    p.libraries.map((l) => [
      l.name,
      l.source.type === "git" ? l.source.url : "",
      Object.keys(l.kconfig).length,
    ]),
    [
      ["lwip", "https://github.com/unikraft/lib-lwip.git", 18],
      ["libelf", "https://github.com/unikraft/lib-libelf.git", 0],
    ],
  );
  assert.equal(p.libraries[0]!.kconfig.CONFIG_LWIP_NUM_TCPCON, "64");
  assert.deepEqual(
    p.targets.map((t) => [t.name, t.platform, t.architecture]),
    [
      ["caddy_fc-x86_64", "firecracker", "x86_64"],
      ["caddy_qemu-x86_64", "qemu", "x86_64"],
    ],
  );
  assert.deepEqual(p.rootfs, { source: join(dir, "Dockerfile"), format: "cpio" });
});

test("catalog: a plain unikraft project (helloworld-cpp) with short-form libraries in order", {
  skip,
}, async () => {
  const { project: p } = await loadProject(join(CATALOG, "native/helloworld-cpp"), { env: {} });
  assert.deepEqual(p.unikraft, {
    name: "unikraft",
    source: { type: "git", url: "https://github.com/unikraft/unikraft", version: "stable" },
    kconfig: { CONFIG_LIBPOSIX_SYSINFO: "y", CONFIG_LIBUKSIGNAL: "y" },
  });
  assert.deepEqual(
    p.libraries.map((l) => l.name),
    ["libcxxabi", "libcxx", "libunwind", "compiler-rt", "musl"],
  );
  assert.deepEqual(p.libraries[3]!.source, {
    type: "git",
    url: "https://github.com/unikraft/lib-compiler-rt",
    version: "stable",
  });
  assert.deepEqual(p.libraries[3]!.kconfig, { CONFIG_LIBCOMPILER_RT: "y" });
  assert.deepEqual(
    p.targets.map((t) => `${t.platform}/${t.architecture}`),
    ["qemu/x86_64", "xen/x86_64", "qemu/arm64", "firecracker/x86_64"],
  );
  assert.equal(p.targets[3]!.name, "helloworld_fc-x86_64");
});

test("catalog: a kconfig key repeated with the same value is a warning (lua 5.4)", { skip }, async () => {
  const r = await readProject(join(CATALOG, "library/lua/5.4"), { env: {} });
  assert.ok(r.project);
  const w = r.diagnostics.filter((d) => d.code === "duplicate-key");
  assert.equal(w.length, 1);
  assert.equal(w[0]!.severity, "warning");
  assert.equal(`${w[0]!.line}:${w[0]!.col}`, "27:5");
  assert.match(w[0]!.message, /duplicate key `CONFIG_LIBUK9P` repeats the value it has on line 13/);
  assert.equal(r.project.unikraft!.kconfig.CONFIG_LIBVFSCORE_AUTOMOUNT_FB0_DEV, '"embedded"');
  assert.deepEqual(r.project.libraries[0]!.source, {
    type: "git",
    url: "https://github.com/unikraft/lib-musl",
    version: "stable",
  });
});

test("catalog: `unikraft: stable` is a version of the default core (library/helloworld)", {
  skip,
}, async () => {
  const { project: p } = await loadProject(join(CATALOG, "library/helloworld"), { env: {} });
  assert.deepEqual(p.unikraft?.source, {
    type: "git",
    url: "https://github.com/unikraft/unikraft",
    version: "stable",
  });
  assert.deepEqual(p.libraries, []);
  assert.deepEqual(
    p.targets.map((t) => t.name),
    ["helloworld_qemu-x86_64", "helloworld_qemu-arm64", "helloworld_fc-x86_64", "helloworld_xen-x86_64"],
  );
});
