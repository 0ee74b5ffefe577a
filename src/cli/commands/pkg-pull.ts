/** `kiln pkg pull REF [--plat P] [--arch A]`: fetch a package into the local store. */
import { usageError } from "../../core/errors.js";
import { formatBytes } from "../../core/units.js";
import { packageStore } from "../../orchestration/package-run.js";
import { normalizePkgArch, normalizePkgPlatform } from "../../pkg/platform.js";
import { pullPackage } from "../../pkg/pull.js";
import { bool, type CommandDef, str } from "../command.js";

const command: CommandDef = {
  name: ["pkg", "pull"],
  summary: "pull a package from a registry into the local store",
  usage: "pkg pull REF [--plat P] [--arch A] [--insecure] [--json]",
  maxPositionals: 1,
  options: {
    plat: { type: "string", valueName: "PLAT", description: "only this platform's manifest (qemu, fc, xen)" },
    arch: {
      type: "string",
      short: "m",
      valueName: "ARCH",
      description: "only this architecture's (x86_64, arm64)",
    },
    insecure: {
      type: "boolean",
      description: "HTTPS without certificate verification, else plain HTTP (docker's insecure registries)",
    },
    json: { type: "boolean", description: "print the result as JSON" },
  },
  details:
    "Every blob is checked against its digest before it enters the store; a download cut midway resumes.",
  async run(ctx) {
    const ref = ctx.positionals[0];
    if (ref === undefined) throw usageError("missing REF", "usage: kiln pkg pull REF");
    const plat = str(ctx, "plat");
    const arch = str(ctx, "arch");
    const r = await pullPackage(packageStore(ctx.env), ref, {
      env: ctx.env,
      reporter: ctx.reporter,
      signal: ctx.signal,
      insecure: bool(ctx, "insecure"),
      ...(plat ? { platform: normalizePkgPlatform(plat) } : {}),
      ...(arch ? { architecture: normalizePkgArch(arch) } : {}),
    });
    ctx.out(
      bool(ctx, "json")
        ? `${JSON.stringify(r, null, 2)}\n`
        : `${r.ref}@${r.digest} (${formatBytes(r.downloadedBytes)} downloaded)\n`,
    );
    return 0;
  },
};

export default command;
