/** `kiln pkg push REF [--to REF]`: send a stored package to its registry. */
import { usageError } from "../../core/errors.js";
import { formatBytes, parseSize } from "../../core/units.js";
import { packageStore } from "../../orchestration/package-run.js";
import { pushPackage } from "../../pkg/push.js";
import { bool, type CommandDef, str } from "../command.js";

const command: CommandDef = {
  name: ["pkg", "push"],
  summary: "push a stored package to a registry",
  usage: "pkg push REF [--to REF] [--insecure] [--chunk-size SIZE] [--json]",
  maxPositionals: 1,
  options: {
    to: { type: "string", valueName: "REF", description: "push under this reference instead" },
    insecure: {
      type: "boolean",
      description: "HTTPS without certificate verification, else plain HTTP (docker's insecure registries)",
    },
    "chunk-size": {
      type: "string",
      valueName: "SIZE",
      description: "upload blobs larger than SIZE in chunks of SIZE (default 64M)",
    },
    json: { type: "boolean", description: "print the result as JSON" },
  },
  details:
    "Credentials come from ~/.docker/config.json (auths, credHelpers, credsStore), as docker login writes them.",
  async run(ctx) {
    const ref = ctx.positionals[0];
    if (ref === undefined) throw usageError("missing REF", "usage: kiln pkg push REF");
    const to = str(ctx, "to");
    const chunk = str(ctx, "chunk-size");
    const r = await pushPackage(packageStore(ctx.env), ref, {
      env: ctx.env,
      reporter: ctx.reporter,
      signal: ctx.signal,
      insecure: bool(ctx, "insecure"),
      ...(to ? { to } : {}),
      ...(chunk ? { chunkSizeBytes: parseSize(chunk, 1, "--chunk-size") } : {}),
    });
    ctx.out(
      bool(ctx, "json")
        ? `${JSON.stringify(r, null, 2)}\n`
        : `${r.ref}@${r.digest} (${formatBytes(r.uploadedBytes)} uploaded)\n`,
    );
    return 0;
  },
};

export default command;
