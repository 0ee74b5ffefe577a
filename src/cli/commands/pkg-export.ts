/** `kiln pkg export REF -o FILE.tar`: a stored package as an OCI image layout archive. */
import { resolve } from "node:path";
import { usageError } from "../../core/errors.js";
import { packageStore } from "../../orchestration/package-run.js";
import { exportPackage } from "../../pkg/archive.js";
import { bool, type CommandDef, str } from "../command.js";

const command: CommandDef = {
  name: ["pkg", "export"],
  summary: "write a stored package as an OCI image layout tar",
  usage: "pkg export REF -o FILE.tar",
  maxPositionals: 1,
  options: { output: { type: "string", short: "o", valueName: "FILE", description: "the archive to write" } },
  details: "The archive is what skopeo calls oci-archive:FILE.tar.",
  async run(ctx) {
    const ref = ctx.positionals[0];
    const out = str(ctx, "output");
    if (ref === undefined || out === undefined)
      throw usageError("missing REF or -o FILE", "usage: kiln pkg export REF -o FILE.tar");
    const r = await exportPackage(packageStore(ctx.env), ref, resolve(ctx.cwd, out));
    if (bool(ctx, "json"))
      ctx.out(
        `${JSON.stringify({ ok: true, ref: r.ref, output: resolve(ctx.cwd, out), blobs: r.blobs }, null, 2)}\n`,
      );
    else ctx.out(`${r.ref} -> ${out} (${r.blobs} blobs)\n`);
    return 0;
  },
};

export default command;
