/**
 * The command table. Modules load lazily so `kiln --help` stays fast and a
 * command's dependencies load only when it runs. Each module's default export
 * is a {@link CommandDef}.
 */
import type { CommandDef } from "../command.js";

export interface CommandEntry {
  name: string[];
  summary: string;
  load: () => Promise<{ default: CommandDef }>;
}

export const COMMANDS: CommandEntry[] = [
  {
    name: ["rootfs", "ls"],
    summary: "list the entries of a CPIO root filesystem (initrd)",
    load: () => import("./rootfs-ls.js"),
  },
  {
    name: ["validate"],
    summary: "check a project's Kraftfile and report all problems",
    load: () => import("./validate.js"),
  },
  {
    name: ["inspect"],
    summary: "print a project's normalized Kraftfile (targets, sources, versions)",
    load: () => import("./inspect.js"),
  },
];
