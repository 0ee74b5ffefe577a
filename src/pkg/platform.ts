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

/**
 * The registry a package name without one belongs to: `KILN_REGISTRY`
 * (`HOST[:PORT]`) when set, else `localhost`, podman's name for images that
 * live only in the local store. KraftKit sends such names to its own public
 * index; Kiln implies no public registry (a Kiln machine may reach only its
 * own), so `runtime: base:latest` is `localhost/base:latest` until
 * `KILN_REGISTRY` says where it comes from.
 */
export function defaultPackageRegistry(env: NodeJS.ProcessEnv = process.env): string {
  return env.KILN_REGISTRY?.trim() || "localhost";
}

/**
 * A package reference: as Docker parses one, except that a name without a
 * registry gets {@link defaultPackageRegistry}'s. Throws `BAD_REFERENCE`.
 */
export function parsePackageReference(text: string, env: NodeJS.ProcessEnv = process.env): ImageReference {
  return parseImageReference(text, defaultPackageRegistry(env));
}

/** The canonical spelling of a package reference (`REGISTRY/REPO:TAG`). */
export function canonicalPackageRef(text: string): string {
  return formatImageReference(parsePackageReference(text));
}
