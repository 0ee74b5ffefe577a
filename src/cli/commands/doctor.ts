/** `kiln doctor [--json]`: what this host can do and why; exit 0 when `kiln run` can boot guests here. */
import { useColor } from "../../core/output.js";
import { formatDoctor, gatherDoctor } from "../../orchestration/doctor.js";
import { bool, type CommandDef } from "../command.js";

const command: CommandDef = {
  name: ["doctor"],
  summary: "check what this host can do: QEMU, KVM (and why not), firmware, tools, caches",
  usage: "doctor [--json]",
  maxPositionals: 0,
  details:
    "The first thing to run when something is off. Runs the KVM probe (a tiny guest under -accel kvm, cached per boot) and lists each missing piece with the Debian package that provides it. Exit status 0 when kiln run can boot guests on this host, 1 otherwise.",
  options: {
    json: { type: "boolean", description: "print one JSON document (the report, with ok)" },
  },
  async run(ctx) {
    const report = await gatherDoctor(ctx.env);
    if (bool(ctx, "json")) ctx.out(`${JSON.stringify(report, null, 2)}\n`);
    else {
      const color = useColor(process.stdout, ctx.env);
      const marks = color
        ? { ok: "\x1b[32mok\x1b[0m", bad: "\x1b[31m!!\x1b[0m", off: "\x1b[33m--\x1b[0m" }
        : { ok: "ok", bad: "!!", off: "--" };
      ctx.out(formatDoctor(report, marks));
    }
    return report.ok ? 0 : 1;
  },
};

export default command;
