/**
 * The package format's names: paths, media types and annotations.
 *
 * KraftKit's layout, read from its source (unikraft/kraftkit `oci/`):
 * `wellknown.go` (the paths), `annotations.go` (the `org.unikraft.*` and
 * `sh.kraftkit.version` names), `pack.go` (one uncompressed tar layer per file
 * with `WithStripTimes`, layer annotations `org.unikraft.kernel.image` and
 * `org.unikraft.kernel.initrd`, the config's `os` = platform, `architecture`,
 * `os.version` = kernel version, `os.features` = the `.config` without
 * `CONFIG_UK_APP`/`CONFIG_UK_BASE`), `manifest.go` and `index.go` (the
 * `org.opencontainers.image.ref.name`, `org.opencontainers.image.created`,
 * `sh.kraftkit.version` and containerd's `io.containerd.image.name`
 * annotations), `compatible.go` (KraftKit only takes an index or manifest
 * carrying `sh.kraftkit.version`).
 *
 * urunc's annotations, read from urunc-dev/urunc `pkg/unikontainers/config.go`
 * (`annotType` … `annotBlockMntPoint`; the `urunc.json` fallback file in the
 * root filesystem holds the same keys with base64 values).
 */

/** Where files sit in a package's layers (KraftKit `oci/wellknown.go`). */
export const PKG_PATHS = {
  kernel: "/unikraft/bin/kernel",
  kernelDbg: "/unikraft/bin/kernel.dbg",
  initrd: "/unikraft/bin/initrd",
  /** Kiln: a disk image (ext4, EROFS) attached as the guest's /dev/vda. */
  rootfs: "/unikraft/bin/rootfs",
  /** urunc's fallback metadata file (urunc `pkg/unikontainers/config.go`, `uruncJSONFilename`). */
  uruncJson: "/urunc.json",
} as const;

/** Layer media types Kiln reads. It writes the plain OCI tar layer, the one KraftKit reads. */
export const PKG_MEDIA = {
  layerTar: "application/vnd.oci.image.layer.v1.tar",
  /** Newer Unikraft tooling: the layer blob is the file itself, no tar around it. */
  unikraftKernel: "application/vnd.unikraft.kernel.v1",
  unikraftKernelDbg: "application/vnd.unikraft.kernel.dbg.v1",
  unikraftInitrd: "application/vnd.unikraft.initrd.v1",
  unikraftRom: "application/vnd.unikraft.rom.v1",
} as const;

/** Annotation keys. */
export const ANNOTATION = {
  // OCI image spec annotations.md
  refName: "org.opencontainers.image.ref.name",
  created: "org.opencontainers.image.created",
  // containerd's image name (KraftKit sets it "for containerd compatibility")
  containerdName: "io.containerd.image.name",
  // KraftKit oci/annotations.go
  kraftkitVersion: "sh.kraftkit.version",
  unikraftName: "org.unikraft.image.name",
  kernelVersion: "org.unikraft.kernel.version",
  kernelImage: "org.unikraft.kernel.image",
  kernelInitrd: "org.unikraft.kernel.initrd",
  // Kiln's own, for what KraftKit's layout has no name for
  kilnGuest: "dev.kiln.guest",
  kilnRootfs: "dev.kiln.rootfs",
  kilnKernelArgs: "dev.kiln.kernel.args",
  // urunc pkg/unikontainers/config.go
  uruncType: "com.urunc.unikernel.unikernelType",
  uruncVersion: "com.urunc.unikernel.unikernelVersion",
  uruncHypervisor: "com.urunc.unikernel.hypervisor",
  uruncBinary: "com.urunc.unikernel.binary",
  uruncCmdline: "com.urunc.unikernel.cmdline",
  uruncInitrd: "com.urunc.unikernel.initrd",
  uruncBlock: "com.urunc.unikernel.block",
  uruncBlkMntPoint: "com.urunc.unikernel.blkMntPoint",
} as const;

/**
 * The `sh.kraftkit.version` Kiln writes. KraftKit discards the value and only
 * checks the key is there (`oci/compatible.go`); Kiln says it wrote the image.
 */
export const KRAFTKIT_COMPAT_VERSION = "kiln-0.1.0";

/** Platforms (config `os`) as KraftKit names them, and the VMM Kiln runs each on. */
export const PKG_PLATFORMS = ["qemu", "fc", "xen"] as const;
export type PkgPlatform = (typeof PKG_PLATFORMS)[number];

/** Architectures as KraftKit names them (`x86_64`, `arm64`). */
export const PKG_ARCHS = ["x86_64", "arm64"] as const;
export type PkgArch = (typeof PKG_ARCHS)[number];

/** urunc's hypervisor name for a KraftKit platform (urunc `pkg/unikontainers/hypervisors/`). */
export const URUNC_HYPERVISOR: Record<PkgPlatform, string> = { qemu: "qemu", fc: "firecracker", xen: "xen" };
