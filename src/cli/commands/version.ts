/** `kiln version`: Kiln's version, and Node's (kraft's `version` command). */
import { kilnVersion } from "../../core/version.js";
import { bool, type CommandDef } from "../command.js";

const command: CommandDef = {
  name: ["version"],
  summary: "print Kiln's version",
  usage: "version [--json]",
  maxPositionals: 0,
  options: { json: { type: "boolean", description: "print {ok, version, node}" } },
  async run(ctx) {
    const version = kilnVersion();
    ctx.out(
      bool(ctx, "json")
        ? `${JSON.stringify({ ok: true, version, node: process.versions.node }, null, 2)}\n`
        : `kiln ${version} (node ${process.versions.node})\n`,
    );
    return 0;
  },
};

export default command;
