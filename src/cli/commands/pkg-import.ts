/** `kiln pkg import FILE.tar [--name REF]`: read an OCI image layout archive into the store. */
import { resolve } from "node:path";
import { usageError } from "../../core/errors.js";
import { packageStore } from "../../orchestration/package-run.js";
import { importPackage } from "../../pkg/archive.js";
import { bool, type CommandDef, str } from "../command.js";

const command: CommandDef = {
  name: ["pkg", "import"],
  summary: "import an OCI image layout tar into the local store",
  usage: "pkg import FILE.tar [--name REF]",
  maxPositionals: 1,
  options: {
    name: {
      type: "string",
      short: "n",
      valueName: "REF",
      description: "name for an image the archive does not name fully",
    },
  },
  async run(ctx) {
    const file = ctx.positionals[0];
    if (file === undefined) throw usageError("missing FILE.tar", "usage: kiln pkg import FILE.tar");
    const name = str(ctx, "name");
    const imported = await importPackage(packageStore(ctx.env), resolve(ctx.cwd, file), name);
    if (bool(ctx, "json")) ctx.out(`${JSON.stringify({ ok: true, imported }, null, 2)}\n`);
    else for (const ref of imported) ctx.out(`${ref}\n`);
    return 0;
  },
};

export default command;
