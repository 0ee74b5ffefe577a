/**
 * Where a Unikraft target's build outputs live. Pure: shared by `kiln build`
 * (which produces them) and `kiln run` (which boots them).
 *
 * Unikraft's KVM platform names its image `$(CONFIG_UK_NAME)_$(VMM)-$(ARCH)`
 * (plat/kvm/Linker.uk: `qemu` or `fc` for the VMM), and KraftKit builds every
 * target of a project into `.unikraft/build` with `CONFIG_UK_NAME` set to the
 * project name, so helloworld's qemu/x86_64 kernel is
 * `.unikraft/build/helloworld_qemu-x86_64`. KraftKit packs a project's
 * `rootfs:` into `.unikraft/build/initramfs-<arch>.cpio`; a spec v0.5
 * target's own `initrd:` goes to its `output` when it names one, else to
 * that same path (the target's initrd replaces the project's `rootfs:`).
 *
 * Kiln compiles each target in its own build directory
 * `<outdir>/targets/<target>` (make's `O=`): in one shared directory, as
 * KraftKit does it, building qemu/x86_64 then qemu/arm64 recompiles every
 * object each time, so `kiln build --all` would never be a no-op. The image
 * is then published (hard-linked) at KraftKit's path above, so `kraft run`,
 * `kiln run` and scripts find it where they expect. Two targets with the same
 * platform and architecture (app-sqlite's 9pfs and initrd variants) would
 * publish to the same name, so theirs stay in their build directory.
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
  /** The bootable kernel image (where Kiln publishes it). */
  kernel: string;
  /** The unstripped image with debug symbols (Unikraft's `.dbg`). */
  kernelDbg: string;
  /** Where make writes the image inside `buildDir` (equal to `kernel` when not published). */
  builtKernel: string;
  /** The initrd packed from the target's `initrd:` or else the project's `rootfs:`, when there is one. */
  initrd?: string;
}

/** Paths of a target's build outputs. */
export function targetArtifacts(project: Project, target: Target): TargetArtifacts {
  const shared = project.targets.filter(
    (t) => t.platform === target.platform && t.architecture === target.architecture,
  );
  const buildDir = join(project.outdir, "targets", target.name);
  const image = `${project.name}_${platformShortName(target.platform)}-${target.architecture}`;
  const builtKernel = join(buildDir, image);
  const kernel = shared.length > 1 ? builtKernel : join(project.outdir, image);
  const initrdDir = shared.length > 1 ? buildDir : project.outdir;
  return {
    buildDir,
    kernel,
    kernelDbg: `${kernel}.dbg`,
    builtKernel,
    ...(target.initrd || project.rootfs
      ? { initrd: target.initrd?.output ?? join(initrdDir, `initramfs-${target.architecture}.cpio`) }
      : {}),
  };
}
