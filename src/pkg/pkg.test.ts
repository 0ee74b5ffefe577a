import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { isKilnError } from "../core/errors.js";
import { formatImageReference } from "../core/registry/reference.js";
import { ANNOTATION, PKG_MEDIA } from "./media.js";
import { dotConfigEntries, kconfigFeatures, uruncAnnotations } from "./package.js";
import {
  canonicalPackageRef,
  normalizePkgArch,
  normalizePkgPlatform,
  parsePackageReference,
} from "./platform.js";
import { layerRole, selectPackageManifest } from "./read.js";

test("package references without a registry take KILN_REGISTRY's, else the local store's (localhost)", () => {
  assert.equal(canonicalPackageRef("nginx:1.25"), "localhost/nginx:1.25");
  assert.equal(canonicalPackageRef("base"), "localhost/base:latest");
  const env = { KILN_REGISTRY: "127.0.0.1:5000" };
  assert.equal(formatImageReference(parsePackageReference("base", env)), "127.0.0.1:5000/base:latest");
  assert.equal(canonicalPackageRef("127.0.0.1:5000/apps/hello:1"), "127.0.0.1:5000/apps/hello:1");
  assert.equal(canonicalPackageRef("localhost/app"), "localhost/app:latest");
  assert.throws(
    () => canonicalPackageRef("Bad Name"),
    (e) => isKilnError(e, "BAD_REFERENCE"),
  );
});

test("platforms and architectures take the spellings users type", () => {
  assert.equal(normalizePkgPlatform("firecracker"), "fc");
  assert.equal(normalizePkgPlatform("kvm"), "qemu");
  assert.equal(normalizePkgArch("amd64"), "x86_64");
  assert.equal(normalizePkgArch("aarch64"), "arm64");
  assert.throws(
    () => normalizePkgPlatform("vbox"),
    (e) => isKilnError(e, "PKG_BAD_PLATFORM") && /"vbox" is not one of qemu, fc, xen/.test(e.message),
  );
  assert.throws(
    () => normalizePkgArch("riscv64"),
    (e) => isKilnError(e, "PKG_BAD_ARCH"),
  );
});

test("os.features: the .config entries without CONFIG_UK_APP/CONFIG_UK_BASE, sorted and unique (KraftKit pack.go)", () => {
  const entries = dotConfigEntries(
    '# comment\nCONFIG_UK_BASE="/x"\nCONFIG_LIBVFSCORE=y\n# CONFIG_X is not set\nCONFIG_UK_APP="/a"\nCONFIG_HAVE_BOOTENTRY=y\nCONFIG_LIBVFSCORE=y\n',
  );
  assert.deepEqual(kconfigFeatures(entries), ["CONFIG_HAVE_BOOTENTRY=y", "CONFIG_LIBVFSCORE=y"]);
});

test("layers are recognized by KraftKit's annotations and by the newer unikraft media types", () => {
  assert.deepEqual(
    layerRole({
      digest: "sha256:1",
      mediaType: PKG_MEDIA.layerTar,
      annotations: { [ANNOTATION.kernelImage]: "/unikraft/bin/kernel" },
    }),
    {
      role: "kernel",
      raw: false,
    },
  );
  assert.deepEqual(
    layerRole({ digest: "sha256:1", annotations: { [ANNOTATION.kernelInitrd]: "/unikraft/bin/initrd" } }),
    { role: "initrd", raw: false },
  );
  assert.deepEqual(layerRole({ digest: "sha256:1", mediaType: "application/vnd.unikraft.kernel.v1" }), {
    role: "kernel",
    raw: true,
  });
  assert.deepEqual(layerRole({ digest: "sha256:1", mediaType: "application/vnd.unikraft.initrd.v1" }), {
    role: "initrd",
    raw: true,
  });
  assert.deepEqual(layerRole({ digest: "sha256:1", mediaType: "application/vnd.unikraft.kernel.dbg.v1" }), {
    role: "kernelDbg",
    raw: true,
  });
  assert.deepEqual(layerRole({ digest: "sha256:1", mediaType: "application/vnd.unikraft.rom.v1" }), {
    role: "rootfs",
    raw: true,
  });
  assert.equal(layerRole({ digest: "sha256:1", mediaType: PKG_MEDIA.layerTar }), undefined);
});

test("the manifest for the host architecture and the chosen platform; a missing one lists what exists", () => {
  const ms = [
    { digest: "sha256:a", platform: { os: "fc", architecture: "x86_64" } },
    { digest: "sha256:b", platform: { os: "qemu", architecture: "x86_64" } },
    { digest: "sha256:c", platform: { os: "qemu", architecture: "arm64" } },
  ];
  assert.equal(
    selectPackageManifest(ms, { architecture: "x86_64", platform: "qemu" }, "r").digest,
    "sha256:b",
  );
  assert.equal(selectPackageManifest(ms, { architecture: "arm64" }, "r").digest, "sha256:c");
  assert.throws(
    () => selectPackageManifest(ms, { architecture: "arm64", platform: "fc" }, "r"),
    (e) =>
      isKilnError(e, "PKG_NO_PLATFORM") &&
      /available \(platform\/architecture\): fc\/x86_64, qemu\/x86_64, qemu\/arm64/.test(e.hint ?? ""),
  );
});

test("urunc's annotations: a unikraft kernel with an initrd, a Linux kernel with a block root", () => {
  assert.deepEqual(
    uruncAnnotations({
      guest: "unikraft",
      platform: "qemu",
      cmdline: "kernel /bin/app",
      initrd: true,
      rootfs: false,
      kernelVersion: "0.17.0",
    }),
    {
      "com.urunc.unikernel.unikernelType": "unikraft",
      "com.urunc.unikernel.hypervisor": "qemu",
      "com.urunc.unikernel.binary": "/unikraft/bin/kernel",
      "com.urunc.unikernel.cmdline": "kernel /bin/app",
      "com.urunc.unikernel.unikernelVersion": "0.17.0",
      "com.urunc.unikernel.initrd": "/unikraft/bin/initrd",
    },
  );
  const linux = uruncAnnotations({
    guest: "linux",
    platform: "fc",
    cmdline: "/init",
    initrd: false,
    rootfs: true,
  });
  assert.equal(linux["com.urunc.unikernel.hypervisor"], "firecracker");
  assert.equal(linux["com.urunc.unikernel.block"], "/unikraft/bin/rootfs");
  assert.equal(linux["com.urunc.unikernel.blkMntPoint"], "/");
});

// The annotation names Kiln writes are the ones urunc reads: checked against urunc's source when a
// checkout is given (KILN_TEST_URUNC=/path/to/urunc), never copied into this repository.
const URUNC = process.env.KILN_TEST_URUNC;
test("Kiln's urunc annotation keys are those urunc's pkg/unikontainers/config.go reads", {
  skip: URUNC ? false : "set KILN_TEST_URUNC to a urunc checkout to compare with its source",
}, () => {
  const file = join(URUNC!, "pkg/unikontainers/config.go");
  assert.ok(existsSync(file), `${file} exists`);
  const src = readFileSync(file, "utf8");
  const read = new Set([...src.matchAll(/=\s*"(com\.urunc\.unikernel\.[A-Za-z]+)"/g)].map((m) => m[1]!));
  const ours = Object.entries(ANNOTATION)
    .filter(([k]) => k.startsWith("urunc"))
    .map(([, v]) => v);
  for (const key of ours) assert.ok(read.has(key), `urunc reads ${key}`);
});
