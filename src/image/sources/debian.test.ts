import assert from "node:assert/strict";
import { test } from "node:test";
import { isKilnError } from "../../core/errors.js";
import { dpkgArchitecture } from "../build.js";
import { planMmdebstrapArgv } from "./debian.js";
import { parsePlatform } from "./oci-manifest.js";

test("mmdebstrap argv: variant, mode, tar output, architecture, packages, mirror", () => {
  assert.deepEqual(
    planMmdebstrapArgv("mmdebstrap", {
      distro: "debian",
      suite: "bookworm",
      output: "/w/d.tar",
      variant: "essential",
      mode: "chrootless",
      architecture: "arm64",
      include: ["busybox,openssh-server", "ca-certificates"],
      mirror:
        "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://apt.example.test/debian bookworm main",
    }),
    [
      "mmdebstrap",
      "--variant=essential",
      "--mode=chrootless",
      "--format=tar",
      "--architectures=arm64",
      "--include=busybox,openssh-server,ca-certificates",
      "bookworm",
      "/w/d.tar",
      "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://apt.example.test/debian bookworm main",
    ],
  );
  assert.throws(
    () =>
      planMmdebstrapArgv("m", { distro: "debian", suite: "bookworm", output: "x", include: ["bad pkg;rm"] }),
    (e) => isKilnError(e, "ROOTFS_BAD_PACKAGE"),
  );
});

test("OCI platforms map to dpkg architectures", () => {
  assert.equal(dpkgArchitecture(parsePlatform("linux/amd64")), "amd64");
  assert.equal(dpkgArchitecture(parsePlatform("linux/arm64/v8")), "arm64");
  assert.equal(dpkgArchitecture(parsePlatform("linux/arm/v7")), "armhf");
  assert.equal(dpkgArchitecture(parsePlatform("linux/386")), "i386");
  assert.equal(dpkgArchitecture(parsePlatform("linux/ppc64le")), "ppc64el");
});
