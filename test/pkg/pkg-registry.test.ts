/**
 * Packages through a real registry (Debian's docker-registry on 127.0.0.1):
 * a Multiboot stand-in for a Unikraft kernel packaged in KraftKit's layout,
 * pushed, pulled into an empty store and run by reference under TCG; skopeo
 * and umoci read Kiln's image; an image umoci built in KraftKit's layout is
 * run by Kiln; a tampered blob is refused on pull; Basic auth with
 * credentials from a Docker config file.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { which } from "../../src/core/exec.js";
import { debianKernel, noBusybox, prepareLinuxRootfs } from "../helpers/guests.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { registryBlobPath, startRegistry } from "../helpers/registry.js";
import { buildMultibootStandin } from "../machine/guests.js";

const missing = ["docker-registry", "skopeo", "umoci", "gcc", "qemu-system-x86_64"].filter((t) => !which(t));
const skip = missing.length ? `missing ${missing.join(", ")}` : false;

interface Doc {
  manifests?: { digest: string; platform?: Record<string, unknown>; annotations?: Record<string, string> }[];
  layers?: { digest: string; mediaType: string; annotations?: Record<string, string> }[];
  annotations?: Record<string, string>;
}

test("a packaged unikernel: push, pull into an empty store, run by reference; skopeo and umoci read it; a tampered blob is refused", {
  skip,
}, async (t) => {
  const started = Date.now();
  const dir = scratchDir(t);
  const reg = await startRegistry(join(dir, "reg"));
  t.after(() => reg.stop());
  const kernel = buildMultibootStandin(dir);
  const ref = `${reg.host}/apps/mb:1`;
  const home1 = { KILN_HOME: join(dir, "h1") };

  const p = await runKiln(
    [
      "pkg",
      "--kernel",
      kernel,
      "--plat",
      "qemu",
      "--arch",
      "x86_64",
      "--name",
      ref,
      "--cmd",
      "hello 'from pkg'",
      "-e",
      "GREETING=hi",
      "--json",
    ],
    { env: home1 },
  );
  assert.equal(p.code, 0, p.stderr);
  assert.equal(JSON.parse(p.stdout)[0].ref, ref);
  const ls = await runKiln(["pkg", "ls", "--json"], { env: home1 });
  assert.deepEqual(
    (JSON.parse(ls.stdout) as { ref: string; platforms: string[] }[]).map((x) => [x.ref, x.platforms]),
    [[ref, ["qemu/x86_64"]]],
  );
  // The store is an OCI layout other tools read as it is.
  const store = join(dir, "h1", "data", "oci");
  assert.deepEqual(JSON.parse(readFileSync(join(store, "oci-layout"), "utf8")), {
    imageLayoutVersion: "1.0.0",
  });

  const push = await runKiln(["pkg", "push", ref], { env: home1 });
  assert.equal(push.code, 0, push.stderr);

  // skopeo reads the index and the manifest for the qemu/x86_64 platform.
  const index = JSON.parse(
    execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`], {
      encoding: "utf8",
    }),
  ) as Doc;
  assert.equal(index.annotations?.["sh.kraftkit.version"] !== undefined, true);
  assert.deepEqual(
    index.manifests?.map((m) => [m.platform?.os, m.platform?.architecture]),
    [["qemu", "x86_64"]],
  );
  const manifest = JSON.parse(
    execFileSync(
      "skopeo",
      [
        "inspect",
        "--raw",
        "--tls-verify=false",
        `docker://${reg.host}/apps/mb@${index.manifests![0]!.digest}`,
      ],
      { encoding: "utf8" },
    ),
  ) as Doc;
  const kernelLayer = manifest.layers!.find(
    (l) => l.annotations?.["org.unikraft.kernel.image"] === "/unikraft/bin/kernel",
  );
  assert.ok(kernelLayer, JSON.stringify(manifest.layers));
  assert.equal(kernelLayer.mediaType, "application/vnd.oci.image.layer.v1.tar");
  for (const k of [
    "org.opencontainers.image.ref.name",
    "org.opencontainers.image.created",
    "sh.kraftkit.version",
    "org.unikraft.image.name",
  ])
    assert.ok(manifest.annotations?.[k], `manifest annotation ${k}`);
  const info = JSON.parse(
    execFileSync(
      "skopeo",
      [
        "inspect",
        "--tls-verify=false",
        "--override-os",
        "qemu",
        "--override-arch",
        "x86_64",
        `docker://${ref}`,
      ],
      { encoding: "utf8" },
    ),
  ) as { Labels: Record<string, string> };
  assert.equal(info.Labels["com.urunc.unikernel.binary"], "/unikraft/bin/kernel");
  assert.equal(info.Labels["com.urunc.unikernel.cmdline"], "kernel hello 'from pkg'");

  // skopeo copies it into an OCI layout; umoci unpacks the files and finds the kernel byte for byte.
  const layout = join(dir, "layout");
  execFileSync(
    "skopeo",
    [
      "copy",
      "--src-tls-verify=false",
      "--override-os",
      "qemu",
      "--override-arch",
      "x86_64",
      `docker://${ref}`,
      `oci:${layout}:1`,
    ],
    { stdio: "pipe" },
  );
  execFileSync("umoci", ["raw", "unpack", "--rootless", "--image", `${layout}:1`, join(dir, "unpacked")], {
    stdio: "pipe",
  });
  assert.deepEqual(readFileSync(join(dir, "unpacked/unikraft/bin/kernel")), readFileSync(kernel));
  const urunc = JSON.parse(readFileSync(join(dir, "unpacked/urunc.json"), "utf8")) as Record<string, string>;
  assert.equal(Buffer.from(urunc["com.urunc.unikernel.unikernelType"]!, "base64").toString(), "unikraft");

  // An empty store: kiln run REF pulls, picks the host's architecture, boots with the package's cmd and env.
  const home2 = { KILN_HOME: join(dir, "h2") };
  const run = await runKiln(["run", "-W", "--rm", ref, "-a", "exit=3"], { env: home2 });
  assert.equal(run.code, 3, `${run.stderr}\n${run.stdout}`);
  assert.match(run.stdout, /KILN-MULTIBOOT-OK/);
  assert.match(run.stdout, /exit=3 env\.vars=\[ 'GREETING=hi' \] -- hello from pkg/);
  const ls2 = await runKiln(["pkg", "ls", "--json"], { env: home2 });
  assert.equal((JSON.parse(ls2.stdout) as { ref: string }[])[0]?.ref, ref);
  // -- args replace the package's cmd, as for any run.
  const over = await runKiln(["run", "-W", "--rm", ref, "-a", "exit=3", "--", "other"], { env: home2 });
  assert.match(over.stdout, /-- other\r?\n/);

  // A blob the registry serves altered is refused, naming it; nothing of it enters the store, no reference is made.
  writeFileSync(registryBlobPath(reg.storage, kernelLayer.digest), "tampered");
  const home3 = join(dir, "h3");
  const bad = await runKiln(["pkg", "pull", ref], { env: { KILN_HOME: home3 } });
  assert.equal(bad.code, 1);
  assert.match(
    bad.stderr,
    new RegExp(`blob ${kernelLayer.digest} downloaded with digest sha256:[0-9a-f]{64}`),
  );
  const blobs = readdirSync(join(home3, "data/oci/blobs/sha256"));
  assert.ok(!blobs.includes(kernelLayer.digest.slice(7)));
  assert.deepEqual(
    readdirSync(join(home3, "data/oci/ingest")).filter((n) => !n.endsWith(".lock")),
    [],
  );
  const ls3 = await runKiln(["pkg", "ls", "--json"], { env: { KILN_HOME: home3 } });
  assert.deepEqual(JSON.parse(ls3.stdout), []);

  // Errors a user can act on.
  const nf = await runKiln(["pkg", "pull", `${reg.host}/apps/mb:nope`], { env: { KILN_HOME: home3 } });
  assert.equal(nf.code, 1);
  assert.match(nf.stderr, /apps\/mb: no image "nope" \(HTTP 404\)/);
  const notPkg = await runKiln(["pkg", "inspect", "apps/none:1"], { env: { KILN_HOME: home3 } });
  assert.match(notPkg.stderr, /no package localhost\/apps\/none:1/);
  t.diagnostic(`package/push/pull/run test took ${Date.now() - started} ms`);
});

test("an image umoci built in KraftKit's layout, copied to the registry by skopeo, is pulled and run", {
  skip,
}, async (t) => {
  const dir = scratchDir(t);
  const reg = await startRegistry(join(dir, "reg"));
  t.after(() => reg.stop());
  const kernel = buildMultibootStandin(dir);
  const layout = join(dir, "L");
  const umoci = (...args: string[]) => execFileSync("umoci", args, { stdio: "pipe" });
  umoci("init", "--layout", layout);
  umoci("new", "--image", `${layout}:1`);
  umoci("insert", "--rootless", "--image", `${layout}:1`, kernel, "/unikraft/bin/kernel");
  umoci(
    "config",
    "--image",
    `${layout}:1`,
    "--os",
    "qemu",
    "--architecture",
    "x86_64",
    "--config.cmd",
    "from-umoci",
  );
  const ref = `${reg.host}/other/mb:1`;
  execFileSync("skopeo", ["copy", "--dest-tls-verify=false", `oci:${layout}:1`, `docker://${ref}`], {
    stdio: "pipe",
  });
  const run = await runKiln(["run", "-W", "--rm", ref, "-a", "exit=3"], {
    env: { KILN_HOME: join(dir, "h") },
  });
  assert.equal(run.code, 3, `${run.stderr}\n${run.stdout}`);
  assert.match(run.stdout, /KILN-MULTIBOOT-OK/);
  assert.match(run.stdout, /-- from-umoci/);
});

test("basic auth: credentials from the Docker config file; none or wrong ones are clear errors", {
  skip,
}, async (t) => {
  const dir = scratchDir(t);
  const reg = await startRegistry(join(dir, "reg"), { basic: { user: "kiln", password: "s3cret" } });
  t.after(() => reg.stop());
  const kernel = buildMultibootStandin(dir);
  const ref = `${reg.host}/private/mb:1`;
  const home = join(dir, "h");
  const noCreds = { KILN_HOME: home, DOCKER_CONFIG: join(dir, "nodocker") };
  assert.equal((await runKiln(["pkg", "--kernel", kernel, "--name", ref], { env: noCreds })).code, 0);
  const anon = await runKiln(["pkg", "push", ref], { env: noCreds });
  assert.equal(anon.code, 1);
  assert.match(anon.stderr, /private\/mb: authentication required for HEAD \S+ \(HTTP 401\)/);
  assert.match(
    anon.stderr,
    /hint: Kiln reads credentials for 127\.0\.0\.1:\d+ from ~\/\.docker\/config\.json/,
  );

  const writeConfig = (name: string, password: string) => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    const auth = Buffer.from(`kiln:${password}`).toString("base64");
    writeFileSync(join(d, "config.json"), JSON.stringify({ auths: { [reg.host]: { auth } } }));
    return d;
  };
  const wrong = await runKiln(["pkg", "push", ref], {
    env: { KILN_HOME: home, DOCKER_CONFIG: writeConfig("bad", "nope") },
  });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /the credentials from \S+config\.json were refused/);

  const good = { DOCKER_CONFIG: writeConfig("good", "s3cret") };
  const push = await runKiln(["pkg", "push", ref], { env: { KILN_HOME: home, ...good } });
  assert.equal(push.code, 0, push.stderr);
  // A credential helper named in credHelpers answers for the host (docker-credential-<name> get).
  const bin = join(dir, "bin");
  mkdirSync(bin);
  writeFileSync(
    join(bin, "docker-credential-kilntest"),
    `#!/bin/sh\nread server\n[ "$1" = get ] && echo '{"ServerURL":"'$server'","Username":"kiln","Secret":"s3cret"}'\n`,
    { mode: 0o755 },
  );
  const helperCfg = join(dir, "helper");
  mkdirSync(helperCfg);
  writeFileSync(join(helperCfg, "config.json"), JSON.stringify({ credHelpers: { [reg.host]: "kilntest" } }));
  const viaHelper = await runKiln(["pkg", "pull", ref], {
    env: { KILN_HOME: join(dir, "h3"), DOCKER_CONFIG: helperCfg, PATH: `${bin}:${process.env.PATH}` },
  });
  assert.equal(viaHelper.code, 0, viaHelper.stderr);
  const pull = await runKiln(["pkg", "pull", ref], { env: { KILN_HOME: join(dir, "h2"), ...good } });
  assert.equal(pull.code, 0, pull.stderr);
  const run = await runKiln(["run", "-W", "--rm", ref, "-a", "exit=3"], {
    env: { KILN_HOME: join(dir, "h2") },
  });
  assert.equal(run.code, 3, run.stderr);
  assert.ok(existsSync(join(dir, "h2", "data", "oci", "index.json")));
});

const linux = debianKernel();
const linuxSkip = skip || linux.skip || noBusybox() || false;

test("a Linux kernel + initrd packaged, pushed, pulled into an empty store and run: the package's cmd and env reach init", {
  skip: linuxSkip,
}, async (t) => {
  const started = Date.now();
  const dir = scratchDir(t);
  const reg = await startRegistry(join(dir, "reg"));
  t.after(() => reg.stop());
  const rootfs = prepareLinuxRootfs(join(dir, "rootfs"), linux.kernel!);
  const ref = `${reg.host}/linux/hello:1`;
  const home1 = { KILN_HOME: join(dir, "h1") };
  const p = await runKiln(
    [
      "pkg",
      "--kernel",
      linux.kernel!,
      "--initrd",
      rootfs,
      "-a",
      "quiet",
      "-e",
      "GREETING=hi there",
      "--name",
      ref,
      "--",
      "sh",
      "-c",
      "echo pkg guest says $GREETING",
    ],
    { env: home1 },
  );
  assert.equal(p.code, 0, p.stderr);
  assert.equal((await runKiln(["pkg", "push", ref], { env: home1 })).code, 0);
  const home2 = { KILN_HOME: join(dir, "h2") };
  const run = await runKiln(["run", "-W", "--rm", ref], { env: home2, timeoutMs: 240_000 });
  assert.equal(run.code, 0, `${run.stderr}\n${run.stdout}`);
  assert.match(run.stdout, /pkg guest says hi there/);
  const inspect = JSON.parse((await runKiln(["pkg", "inspect", ref, "--json"], { env: home2 })).stdout) as {
    manifests: { manifest: { annotations: Record<string, string> } }[];
  };
  const a = inspect.manifests[0]!.manifest.annotations;
  assert.equal(a["dev.kiln.guest"], "linux");
  assert.equal(a["com.urunc.unikernel.unikernelType"], "linux");
  assert.equal(a["com.urunc.unikernel.initrd"], "/unikraft/bin/initrd");
  assert.deepEqual(JSON.parse(a["dev.kiln.kernel.args"]!), ["quiet"]);
  t.diagnostic(`Linux package test took ${Date.now() - started} ms`);
});
