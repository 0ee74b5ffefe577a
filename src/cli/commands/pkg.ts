/**
 * `kiln pkg [DIR] --name REF` / `kiln pkg --kernel FILE … --name REF`:
 * package built targets, or a kernel given directly, into the local package
 * store (see `pkg/` and the README's Packages section).
 */
import { resolve } from "node:path";
import { usageError } from "../../core/errors.js";
import { formatBytes } from "../../core/units.js";
import { packageKernelFile, packageProject } from "../../orchestration/package-project.js";
import type { PackageResult } from "../../pkg/package.js";
import { hostPkgArch } from "../../pkg/platform.js";
import { bool, type CommandDef, list, str } from "../command.js";
import { kraftfileOption, loadProjectFromArgs } from "../project-options.js";

/** `--cmd "a b 'c d'"`: words split as a shell would (single and double quotes). */
export function splitCommand(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g))
    out.push(m[1] ?? m[2]?.replace(/\\(.)/g, "$1") ?? m[3]!);
  return out;
}

const command: CommandDef = {
  name: ["pkg"],
  summary: "package built targets, or a kernel (--kernel), as an OCI image in KraftKit's layout",
  usage:
    "pkg [DIR] --name REF [-t TARGET|--all] | pkg --kernel FILE [--initrd FILE|DIR] [--rootfs IMAGE] [--cmd CMD] --plat P --arch A --name REF",
  maxPositionals: 1,
  options: {
    name: {
      type: "string",
      short: "n",
      valueName: "REF",
      description:
        "package reference, e.g. 127.0.0.1:5000/apps/hello:1 (KILN_REGISTRY, else localhost, when no registry)",
    },
    kraftfile: kraftfileOption("the Kraftfile (default: found in DIR)"),
    target: {
      type: "string",
      short: "t",
      valueName: "TARGET",
      description: "package the target with this name",
    },
    all: { type: "boolean", description: "package every matching built target" },
    kernel: {
      type: "string",
      valueName: "FILE",
      description: "package this kernel (Unikraft or Linux) instead of a project",
    },
    initrd: {
      type: "string",
      valueName: "FILE|DIR",
      description: "with --kernel: initrd (a directory is packed to CPIO)",
    },
    rootfs: {
      type: "string",
      valueName: "IMAGE",
      description: "with --kernel: disk image (ext4, EROFS) the guest gets as /dev/vda",
    },
    cmd: {
      type: "string",
      valueName: "CMD",
      description: "with --kernel: the application's command (or give it after --)",
    },
    env: {
      type: "string",
      short: "e",
      multiple: true,
      valueName: "K=V",
      description: "with --kernel: environment variable",
    },
    "kernel-arg": {
      type: "string",
      short: "a",
      multiple: true,
      valueName: "ARG",
      description: "with --kernel: kernel command-line argument stored in the package",
    },
    "kernel-version": {
      type: "string",
      valueName: "V",
      description: "with --kernel: Unikraft version or Linux release (os.version)",
    },
    plat: {
      type: "string",
      valueName: "PLAT",
      description: "platform: qemu, fc (firecracker), xen (default qemu with --kernel)",
    },
    arch: {
      type: "string",
      short: "m",
      valueName: "ARCH",
      description: "architecture: x86_64, arm64 (default: the host's with --kernel)",
    },
    dbg: { type: "boolean", description: "include the unstripped kernel (/unikraft/bin/kernel.dbg)" },
    json: { type: "boolean", description: "print the results as JSON" },
  },
  details: [
    "The package goes into the local store ($XDG_DATA_HOME/kiln/oci, an OCI image layout);",
    "kiln pkg push REF sends it to a registry. Packaging again under the same name replaces",
    "the manifest of that platform/architecture and keeps the others.",
    "",
    "examples:",
    "  kiln build --all && kiln pkg --all --name 127.0.0.1:5000/apps/hello:1",
    "  kiln pkg --kernel build/hello_qemu-x86_64 --plat qemu --arch x86_64 --name hello:1",
    "  kiln pkg --kernel /boot/vmlinuz --initrd rootfs/ --cmd /init --name 127.0.0.1:5000/linux/app:1",
  ].join("\n"),
  async run(ctx) {
    const name = str(ctx, "name");
    if (!name) throw usageError("missing --name REF", "for example: --name 127.0.0.1:5000/apps/hello:1");
    const kernel = str(ctx, "kernel");
    const common = { env: ctx.env, reporter: ctx.reporter, signal: ctx.signal };
    let results: PackageResult[];
    if (kernel !== undefined) {
      if (ctx.positionals.length > 0) throw usageError("--kernel packages a file; it takes no DIR");
      const cmdText = str(ctx, "cmd");
      const initrd = str(ctx, "initrd");
      const rootfs = str(ctx, "rootfs");
      const version = str(ctx, "kernel-version");
      results = [
        await packageKernelFile({
          ...common,
          name,
          kernel: resolve(ctx.cwd, kernel),
          ...(initrd ? { initrd: resolve(ctx.cwd, initrd) } : {}),
          ...(rootfs ? { rootfs: resolve(ctx.cwd, rootfs) } : {}),
          platform: str(ctx, "plat") ?? "qemu",
          architecture: str(ctx, "arch") ?? hostPkgArch(),
          cmd: ctx.rest.length ? ctx.rest : cmdText ? splitCommand(cmdText) : [],
          envVars: list(ctx, "env"),
          kernelArgs: list(ctx, "kernel-arg"),
          ...(version ? { kernelVersion: version } : {}),
        }),
      ];
    } else {
      for (const flag of ["initrd", "rootfs", "cmd", "kernel-version"]) {
        if (str(ctx, flag) !== undefined) throw usageError(`--${flag} goes with --kernel FILE`);
      }
      const { project } = await loadProjectFromArgs(ctx);
      const target = str(ctx, "target");
      const plat = str(ctx, "plat");
      const arch = str(ctx, "arch");
      results = await packageProject(project, {
        ...common,
        name,
        ...(target ? { target } : {}),
        ...(plat ? { platform: plat } : {}),
        ...(arch ? { architecture: arch } : {}),
        all: bool(ctx, "all"),
        dbg: bool(ctx, "dbg"),
      });
    }
    if (bool(ctx, "json")) {
      ctx.out(`${JSON.stringify(results, null, 2)}\n`);
      return 0;
    }
    for (const r of results) {
      ctx.out(
        `${r.ref} ${r.platform.os}/${r.platform.architecture} ${r.manifest.digest} (${formatBytes(r.sizeBytes)})\n`,
      );
    }
    return 0;
  },
};

export default command;
