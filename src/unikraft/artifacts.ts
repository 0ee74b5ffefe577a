/**
 * Where a Unikraft target's build outputs live. Pure: shared by `kiln build`
 * (which produces them) and `kiln run` (which boots them).
 *
 * Unikraft's KVM platform names its image `$(CONFIG_UK_NAME)_$(VMM)-$(ARCH)`
 * (plat/kvm/Linker.uk: `qemu` or `fc` for the VMM), and KraftKit builds every
 * target of a project into `.unikraft/build` with `CONFIG_UK_NAME` set to the
 * project name, so helloworld's qemu/x86_64 kernel is
 * `.unikraft/build/helloworld_qemu-x86_64`. KraftKit packs a project's
 * `rootfs:` into `.unikraft/build/initramfs-<arch>.cpio`.
 *
 * Two targets with the same platform and architecture (app-sqlite's 9pfs and
 * initrd variants) would overwrite each other's objects and image there, so
 * Kiln gives each such target its own build directory `<outdir>/<target>`.
 */
import { join } from "node:path";
import type { Platform, Project, Target } from "../kraftfile/types.js";

/** The short platform name Unikraft uses in image file names. */
export function platformShortName(platform: Platform): string {
  return platform === "firecracker" ? "fc" : platform;
}

export interface TargetArtifacts {
  /** Make's `O=` directory for this target. */
  buildDir: string;
  /** The bootable kernel image. */
  kernel: string;
  /** The unstripped image with debug symbols (Unikraft's `.dbg`). */
  kernelDbg: string;
  /** The initrd packed from the project's `rootfs:`, when it has one. */
  initrd?: string;
}

/** Paths of a target's build outputs. */
export function targetArtifacts(project: Project, target: Target): TargetArtifacts {
  const shared = project.targets.filter(
    (t) => t.platform === target.platform && t.architecture === target.architecture,
  );
  const buildDir = shared.length > 1 ? join(project.outdir, target.name) : project.outdir;
  const kernel = join(
    buildDir,
    `${project.name}_${platformShortName(target.platform)}-${target.architecture}`,
  );
  return {
    buildDir,
    kernel,
    kernelDbg: `${kernel}.dbg`,
    ...(project.rootfs ? { initrd: join(buildDir, `initramfs-${target.architecture}.cpio`) } : {}),
  };
}
