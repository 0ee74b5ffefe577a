/**
 * Platform and architecture names as packages spell them (KraftKit's:
 * `qemu`/`fc`/`xen`, `x86_64`/`arm64`), from the spellings users type. Pure.
 */
import { KilnError } from "../core/errors.js";
import {
  formatImageReference,
  type ImageReference,
  parseImageReference,
} from "../core/registry/reference.js";
import { PKG_ARCHS, PKG_PLATFORMS, type PkgArch, type PkgPlatform } from "./media.js";

/** `firecracker` → `fc`, `kvm` → `qemu`; throws `PKG_BAD_PLATFORM`. */
export function normalizePkgPlatform(text: string): PkgPlatform {
  const p = text === "firecracker" ? "fc" : text === "kvm" ? "qemu" : text;
  if (!(PKG_PLATFORMS as readonly string[]).includes(p)) {
    throw new KilnError(
      "PKG_BAD_PLATFORM",
      `platform "${text}" is not one of ${PKG_PLATFORMS.join(", ")} (or firecracker)`,
    );
  }
  return p as PkgPlatform;
}

/** `amd64`/`x86-64` → `x86_64`, `aarch64` → `arm64`; throws `PKG_BAD_ARCH`. */
export function normalizePkgArch(text: string): PkgArch {
  const a = ["amd64", "x86-64", "x64"].includes(text) ? "x86_64" : text === "aarch64" ? "arm64" : text;
  if (!(PKG_ARCHS as readonly string[]).includes(a)) {
    throw new KilnError(
      "PKG_BAD_ARCH",
      `architecture "${text}" is not one of ${PKG_ARCHS.join(", ")} (or amd64, aarch64)`,
    );
  }
  return a as PkgArch;
}

/** The host's architecture in package spelling (`process.arch` x64 → x86_64). */
export function hostPkgArch(arch: string = process.arch): PkgArch {
  return normalizePkgArch(arch);
}

/** KraftKit's default registry for names without one (kraftkit `oci/oci.go` `DefaultRegistry`). */
export const DEFAULT_PKG_REGISTRY = "unikraft.org";

/**
 * A package reference: as Docker parses one, except that a name without a
 * registry is KraftKit's (`nginx:1.25` → `unikraft.org/nginx:1.25`), so
 * `runtime: base:latest` means what it means to `kraft`. Throws `BAD_REFERENCE`.
 */
export function parsePackageReference(text: string): ImageReference {
  const first = text.split("/")[0]!;
  const hasRegistry = text.includes("/") && (/[.:]/.test(first) || first === "localhost");
  return parseImageReference(hasRegistry ? text : `${DEFAULT_PKG_REGISTRY}/${text}`);
}

/** The canonical spelling of a package reference (`REGISTRY/REPO:TAG`). */
export function canonicalPackageRef(text: string): string {
  return formatImageReference(parsePackageReference(text));
}
