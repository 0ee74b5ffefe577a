/**
 * Debian and Ubuntu root filesystems from packages with `mmdebstrap`.
 * mmdebstrap writes a tarball (owners, modes and device nodes kept inside
 * it), which Kiln then applies like any tarball. The mode (mmdebstrap(1),
 * "MODES") is `root` for root, `unshare` for a user with `newuidmap` and a
 * subuid range, and otherwise `chrootless` (dpkg --root, no namespaces):
 * mmdebstrap's own `auto` gives up in that last case ("unable to pick chroot
 * mode automatically"), so Kiln picks, and never needs root.
 */
import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { KilnError } from "../../core/errors.js";
import { exec, requireTool, which } from "../../core/exec.js";
import type { Reporter } from "../../core/output.js";
import { type PackageMirror, resolvePackageMirror } from "./apt-mirror.js";

export interface DebianOptions {
  distro: "debian" | "ubuntu";
  suite: string;
  /** Tarball to write. */
  output: string;
  /**
   * Mirror URL; by default the one the host's apt uses (see
   * {@link resolvePackageMirror}: `KILN_DEBIAN_MIRROR`, config.yaml, apt's sources).
   */
  mirror?: string;
  /** mmdebstrap variant: extract, custom, essential, apt, required, minbase, buildd, important, debootstrap, standard. */
  variant?: string;
  /** Extra packages. */
  include?: string[];
  /** mmdebstrap mode (default `auto`). */
  mode?: string;
  /** Target architecture (dpkg name, e.g. amd64, arm64). */
  architecture?: string;
}

const VARIANTS = new Set([
  "extract",
  "custom",
  "essential",
  "apt",
  "required",
  "minbase",
  "buildd",
  "important",
  "debootstrap",
  "standard",
  "-",
]);

/** The mmdebstrap mode for the current user (see the module doc). */
export function chooseMmdebstrapMode(): string {
  if (process.getuid?.() === 0) return "root";
  let user = "";
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry: no subuid range either
  }
  const hasRange = (file: string) => {
    try {
      return readFileSync(file, "utf8")
        .split("\n")
        .some((l) => l.startsWith(`${user}:`) || l.startsWith(`${process.getuid?.()}:`));
    } catch {
      return false;
    }
  };
  if (user && which("newuidmap") && hasRange("/etc/subuid")) return "unshare";
  return "chrootless";
}

/** mmdebstrap's argv (pure). */
export function planMmdebstrapArgv(tool: string, o: DebianOptions): string[] {
  const variant = o.variant ?? "minbase";
  if (!VARIANTS.has(variant)) {
    throw new KilnError("ROOTFS_BAD_VARIANT", `variant "${variant}" is not an mmdebstrap variant`, {
      hint: `one of: ${[...VARIANTS].filter((v) => v !== "-").join(", ")}`,
    });
  }
  const pkgs = (o.include ?? []).flatMap((p) => p.split(",")).filter(Boolean);
  for (const p of pkgs) {
    if (!/^[a-z0-9][a-z0-9+.-]*(:[a-z0-9]+)?$/.test(p)) {
      throw new KilnError("ROOTFS_BAD_PACKAGE", `"${p}" is not a Debian package name`);
    }
  }
  const argv = [tool, `--variant=${variant}`, `--mode=${o.mode ?? "auto"}`, "--format=tar"];
  if (o.architecture) argv.push(`--architectures=${o.architecture}`);
  if (pkgs.length) argv.push(`--include=${pkgs.join(",")}`);
  argv.push(o.suite, o.output);
  if (o.mirror) argv.push(o.mirror);
  return argv;
}

/**
 * Run mmdebstrap to produce a root filesystem tarball at `o.output`, from
 * the mirror {@link resolvePackageMirror} picks (said on the reporter, and returned).
 */
export async function buildDebianTarball(
  o: DebianOptions,
  opts: { reporter?: Reporter; signal?: AbortSignal; packageMirror?: PackageMirror },
): Promise<PackageMirror> {
  const tool = requireTool("mmdebstrap", `build a ${o.distro} root filesystem`);
  const mirror =
    opts.packageMirror ??
    (await resolvePackageMirror({ distro: o.distro, suite: o.suite, mirror: o.mirror }));
  opts.reporter?.info(`${o.distro}:${o.suite} packages from ${mirror.uri} (${mirror.from})`);
  const argv = planMmdebstrapArgv(tool, {
    ...o,
    mirror: mirror.mirrorArg,
    mode: o.mode ?? chooseMmdebstrapMode(),
  });
  const progress = opts.reporter?.progress(`mmdebstrap ${o.suite}`);
  let last = "";
  await exec(argv, {
    // mmdebstrap logs its steps on stderr: show the latest as progress.
    onStderr: (c) => {
      const line = c.toString().trim().split("\n").pop() ?? "";
      if (line && line !== last) progress?.update((last = line).slice(0, 80));
    },
    tailLines: 25,
    hint: `mmdebstrap needs a reachable mirror (this one: ${mirror.uri}, from ${mirror.from}; another with --mirror URL); unprivileged runs need user namespaces and /etc/subuid ranges (or fakechroot)`,
  });
  progress?.done();
  return mirror;
}
