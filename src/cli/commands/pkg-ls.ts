/** `kiln pkg ls [--json]`: the packages in the local store. */
import { formatBytes } from "../../core/units.js";
import { packageStore } from "../../orchestration/package-run.js";
import { listPackages } from "../../pkg/manage.js";
import { bool, type CommandDef } from "../command.js";

const command: CommandDef = {
  name: ["pkg", "ls"],
  summary: "list the packages in the local store",
  usage: "pkg ls [--json]",
  maxPositionals: 0,
  options: { json: { type: "boolean", description: "print a JSON array" } },
  async run(ctx) {
    const pkgs = await listPackages(packageStore(ctx.env));
    if (bool(ctx, "json")) {
      ctx.out(`${JSON.stringify(pkgs, null, 2)}\n`);
      return 0;
    }
    const rows = pkgs.map((p) => [
      p.ref,
      p.platforms.join(",") || "-",
      p.digest.slice(7, 19),
      formatBytes(p.sizeBytes),
      p.created ?? "",
    ]);
    const head = ["REFERENCE", "PLATFORMS", "DIGEST", "SIZE", "CREATED"];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [head, ...rows])
      ctx.out(
        `${r
          .map((c, i) => c.padEnd(widths[i]!))
          .join("  ")
          .trimEnd()}\n`,
      );
    return 0;
  },
};

export default command;
