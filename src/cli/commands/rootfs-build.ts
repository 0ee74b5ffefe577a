/**
 * `kiln rootfs build SRC -o OUT`: a root filesystem image (CPIO, ext4, EROFS)
 * from a directory, tarball, OCI layout, docker save archive, registry image
 * or Debian/Ubuntu packages, without root.
 */
import { readFile } from "node:fs/promises";
import { KilnError, usageError } from "../../core/errors.js";
import { formatBytes, formatDuration, parseSize } from "../../core/units.js";
import { buildRootfs, type RootfsFormat } from "../../image/build.js";
import { sourceDateEpochFromEnv } from "../../image/cpio/pack.js";
import type { GuestSetupOptions } from "../../image/guest-setup.js";
import { bool, type CommandDef, list, str } from "../command.js";

const FORMATS = ["cpio", "ext4", "erofs"];

const command: CommandDef = {
  name: ["rootfs", "build"],
  summary:
    "build a root filesystem image (cpio, ext4, erofs) from a directory, archive, image or Debian suite",
  usage: "rootfs build SRC -o OUT [--format cpio|ext4|erofs] [options]",
  maxPositionals: 1,
  options: {
    output: { type: "string", short: "o", valueName: "OUT", description: "image to write (atomically)" },
    format: {
      type: "string",
      valueName: "FMT",
      description: "cpio, ext4 or erofs (default: from OUT's extension)",
    },
    size: {
      type: "string",
      valueName: "SIZE",
      description: "ext4 image size, e.g. 512M (default: content + headroom)",
    },
    gzip: { type: "boolean", description: "gzip the CPIO archive (Linux initramfs)" },
    "keep-owner": { type: "boolean", description: "keep a directory's owners instead of root:root" },
    uuid: { type: "string", valueName: "UUID", description: "filesystem UUID (ext4, erofs)" },
    reproducible: {
      type: "boolean",
      description: "fixed timestamps (SOURCE_DATE_EPOCH, default 0) and a UUID derived from the content",
    },
    "device-spec": {
      type: "string",
      valueName: "FILE",
      description: "device nodes and owners to add, lines like /dev/console c 5 1 0600 0 0 (cpio, ext4)",
    },
    platform: { type: "string", valueName: "OS/ARCH", description: "image platform (default linux/amd64)" },
    "guest-setup": {
      type: "boolean",
      description: "set up a Linux guest: getty on ttyS0, proc/sys/dev mounts, hostname",
    },
    hostname: { type: "string", valueName: "H", description: "guest hostname (implies --guest-setup)" },
    init: {
      type: "string",
      valueName: "PATH",
      description: "make /sbin/init point at PATH (implies --guest-setup)",
    },
    "ssh-key": {
      type: "string",
      valueName: "FILE",
      description: "authorize this public key for root (implies --guest-setup)",
    },
    "passwordless-root": {
      type: "boolean",
      description: "root logs in on the console without a password (implies --guest-setup)",
    },
    mirror: {
      type: "string",
      valueName: "URL",
      description:
        "debian:SUITE: package mirror (default: KILN_DEBIAN_MIRROR, config.yaml, the host's apt sources)",
    },
    variant: {
      type: "string",
      valueName: "V",
      description: "debian:SUITE: mmdebstrap variant (default minbase)",
    },
    include: {
      type: "string",
      multiple: true,
      valueName: "PKG,…",
      description: "debian:SUITE: extra packages",
    },
    "insecure-registry": {
      type: "boolean",
      description:
        "HTTPS without certificate verification, else plain HTTP (docker's insecure registries); 127.0.0.1/localhost fall back to plain HTTP without it",
    },
    json: { type: "boolean", description: "print the result as JSON" },
  },
  details: [
    "SRC is one of:",
    "  DIR                    a directory holding the root tree",
    "  FILE.tar[.gz]          a tarball of the root tree",
    "  DIR with oci-layout    an OCI image layout (layers applied with whiteouts)",
    "  FILE.tar (docker save) a docker save archive (has manifest.json)",
    "  docker://REF           an image pulled from a registry (e.g. docker://127.0.0.1:5000/app:1)",
    "  debian:SUITE           Debian packages via mmdebstrap (also ubuntu:SUITE)",
    "",
    "debian:SUITE and ubuntu:SUITE use the mirror the host's apt uses (/etc/apt/sources.list,",
    "sources.list.d/*.list and *.sources: the entry serving that distribution, with its components and",
    "Signed-By keyring), and say which; --mirror URL, KILN_DEBIAN_MIRROR / KILN_UBUNTU_MIRROR or",
    "apt-mirrors: {debian: URL, ubuntu: URL} in config.yaml override it.",
    "",
    "Files are owned by root inside the image whoever runs Kiln; archive owners and device nodes are kept",
    "(ext4 via debugfs, CPIO via a device spec). Entries that would land outside the root are rejected.",
    "",
    "--device-spec FILE adds device nodes, FIFOs and owners without root, one line each:",
    "  PATH TYPE MAJOR MINOR MODE UID GID    TYPE c, b (devices), p (FIFO), d (directory), f (a file's mode/owner)",
    "  /dev/console c 5 1 0600 0 0           '#' starts a comment; '-' for MAJOR/MINOR of non-devices",
    "",
    "examples:",
    "  kiln rootfs build ./rootfs -o initrd.cpio",
    "  kiln rootfs build ./rootfs -o initrd.cpio --device-spec devices.txt",
    "  kiln rootfs build alpine.tar.gz -o rootfs.ext4 --guest-setup --hostname vm1 --ssh-key ~/.ssh/id_ed25519.pub",
    "  kiln rootfs build docker://127.0.0.1:5000/test/img:1 -o img.erofs",
    "  kiln rootfs build debian:bookworm --variant minbase --include openssh-server -o debian.ext4",
  ].join("\n"),
  async run(ctx) {
    const source = ctx.positionals[0];
    const output = str(ctx, "output");
    if (source === undefined) throw usageError("missing SRC", `usage: kiln ${command.usage}`);
    if (output === undefined) throw usageError("missing -o OUT", `usage: kiln ${command.usage}`);
    const format = str(ctx, "format");
    if (format !== undefined && !FORMATS.includes(format)) {
      throw usageError(
        `--format "${format}" is not one of ${FORMATS.join(", ")}`,
        "use --format cpio (initrd), ext4 or erofs",
      );
    }
    const size = str(ctx, "size");
    const envEpoch = sourceDateEpochFromEnv(ctx.env);
    const sourceDateEpoch = bool(ctx, "reproducible") ? (envEpoch ?? 0) : envEpoch;
    let guestSetup: GuestSetupOptions | undefined;
    const sshKeyFile = str(ctx, "ssh-key");
    const passwordlessRoot = bool(ctx, "passwordless-root");
    if (
      bool(ctx, "guest-setup") ||
      str(ctx, "hostname") ||
      str(ctx, "init") ||
      sshKeyFile ||
      passwordlessRoot
    ) {
      let sshPublicKey: string | undefined;
      if (sshKeyFile !== undefined) {
        sshPublicKey = await readFile(sshKeyFile, "utf8").catch((e: Error) => {
          throw new KilnError("ROOTFS_BAD_SSH_KEY", `cannot read SSH key file "${sshKeyFile}": ${e.message}`);
        });
      }
      guestSetup = {
        hostname: str(ctx, "hostname"),
        init: str(ctx, "init"),
        sshPublicKey,
        ...(passwordlessRoot ? { passwordlessRoot } : {}),
      };
    }
    const r = await buildRootfs({
      source,
      output,
      format: format as RootfsFormat | undefined,
      sizeBytes: size === undefined ? undefined : parseSize(size, 1024 * 1024, "--size"),
      gzip: bool(ctx, "gzip") || undefined,
      keepOwner: bool(ctx, "keep-owner"),
      uuid: str(ctx, "uuid"),
      deviceSpec: str(ctx, "device-spec"),
      sourceDateEpoch,
      platform: str(ctx, "platform"),
      guestSetup,
      debian: { mirror: str(ctx, "mirror"), variant: str(ctx, "variant"), include: list(ctx, "include") },
      insecureRegistry: bool(ctx, "insecure-registry"),
      reporter: ctx.reporter,
      signal: ctx.signal,
    });
    if (bool(ctx, "json")) ctx.out(`${JSON.stringify(r, null, 2)}\n`);
    else {
      ctx.out(
        `${r.output}: ${r.format} ${formatBytes(r.sizeBytes)} from ${r.sourceKind}${r.uuid ? `, UUID ${r.uuid}` : ""} in ${formatDuration(r.durationMs)}\n`,
      );
    }
    return 0;
  },
};

export default command;
