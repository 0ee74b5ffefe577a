/**
 * Linux guest kernels: the shapes shared by the kernel domain (requests,
 * configuration reports, build results).
 */

/** Architectures Kiln builds Linux guest kernels for (Firecracker's two). */
export type KernelArch = "x86_64" | "arm64";

/** Every supported architecture, for validation messages. */
export const KERNEL_ARCHES: readonly KernelArch[] = ["x86_64", "arm64"];

/** Linux's `ARCH=` value and the image make produces for an architecture. */
export const ARCH_FACTS: Record<
  KernelArch,
  { makeArch: string; target: string; imagePath: string; crossPrefix?: string; crossPackage?: string }
> = {
  // Firecracker boots the uncompressed ELF on x86_64 (the tutorial's `make vmlinux`).
  x86_64: { makeArch: "x86_64", target: "vmlinux", imagePath: "vmlinux" },
  // ... and the flat Image on arm64 (`make Image`), cross-compiled with Debian's gcc-aarch64-linux-gnu.
  arm64: {
    makeArch: "arm64",
    target: "Image",
    imagePath: "arch/arm64/boot/Image",
    crossPrefix: "aarch64-linux-gnu-",
    crossPackage: "gcc-aarch64-linux-gnu",
  },
};

/** Where a kernel's configuration starts from. */
export type ConfigBase =
  /** Kiln's microVM baseline on top of allnoconfig (see baseline.ts). */
  | { kind: "baseline" }
  /** A full `.config` (e.g. Firecracker's guest config), completed by olddefconfig. */
  | { kind: "file"; path: string; text: string };

/** A fragment file named by the user. */
export interface Fragment {
  path: string;
  text: string;
}

/** One option a later input changed. */
export interface ConfigOverride {
  option: string;
  from: string;
  to: string;
  /** Where the earlier value came from (`baseline`, a file path). */
  fromSource: string;
  /** Where the new value came from. */
  toSource: string;
}

/** An option requested by the inputs and whether the final configuration has it. */
export interface RequestedOption {
  option: string;
  requested: string;
  /** The final value (`n` when unset or absent). */
  actual: string;
  source: string;
}

/** What configuring produced. */
export interface ConfigureResult {
  /** The final `.config` text. */
  dotconfig: string;
  overrides: ConfigOverride[];
  /** Requested options whose final value differs from the request (empty on success). */
  unset: RequestedOption[];
  /** Which engine configured the tree. */
  engine: string;
}
