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
];
