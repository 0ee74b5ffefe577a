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
  /** Other spellings (kraft's `remove` for `rm`), same meaning. */
  aliases?: string[][];
  /** Arguments the spelling implies (`properclean` is `clean --proper`). */
  impliedArgs?: string[];
}

export const COMMANDS: CommandEntry[] = [
  {
    name: ["validate"],
    summary: "check a project's Kraftfile and report all problems",
    load: () => import("./validate.js"),
  },
  {
    name: ["inspect"],
    summary: "print a project's normalized Kraftfile, or a machine's record (kiln inspect NAME)",
    load: () => import("./inspect.js"),
  },
  {
    name: ["fetch"],
    summary: "fetch a project's Unikraft sources into .unikraft/ and write kiln.lock",
    load: () => import("./fetch.js"),
    // kraft's `prepare` readies the sources for a build: here, fetching them.
    aliases: [["prepare"]],
  },
  {
    name: ["build"],
    summary: "configure and build a project's Unikraft targets",
    load: () => import("./build.js"),
  },
  {
    name: ["clean"],
    summary: "remove a project's Unikraft build outputs",
    load: () => import("./clean.js"),
  },
  {
    name: ["properclean"],
    summary: "remove a project's whole build directory (kraft's spelling of clean --proper)",
    load: () => import("./clean.js"),
    impliedArgs: ["--proper"],
  },
  {
    name: ["run"],
    summary: "boot a kernel or a project's built target in a VM",
    load: () => import("./run.js"),
  },
  {
    name: ["ps"],
    summary: "list machines",
    load: () => import("./ps.js"),
  },
  {
    name: ["logs"],
    summary: "print a machine's console log",
    load: () => import("./logs.js"),
  },
  {
    name: ["stop"],
    summary: "stop machines",
    load: () => import("./stop.js"),
  },
  {
    name: ["rm"],
    summary: "remove machines",
    load: () => import("./rm.js"),
    aliases: [["remove"]],
  },
  {
    name: ["attach"],
    summary: "attach this terminal to a detached machine's console (Ctrl-] d detaches)",
    load: () => import("./attach.js"),
  },
  {
    name: ["start"],
    summary: "start exited machines again (same kernel, disks and settings)",
    load: () => import("./start.js"),
  },
  {
    name: ["restart"],
    summary: "stop machines, then start them again",
    load: () => import("./restart.js"),
  },
  {
    name: ["kill"],
    summary: "send a signal to machines' VMMs (default SIGKILL)",
    load: () => import("./kill.js"),
  },
  {
    name: ["wait"],
    summary: "wait for machines to exit; print their exit statuses",
    load: () => import("./wait.js"),
  },
  {
    name: ["prune"],
    summary: "remove every exited machine",
    load: () => import("./prune.js"),
  },
  {
    name: ["completion"],
    summary: "print a shell completion script (bash, zsh, fish)",
    load: () => import("./completion.js"),
  },
  {
    name: ["version"],
    summary: "print Kiln's version",
    load: () => import("./version.js"),
  },
  {
    name: ["rootfs", "build"],
    summary:
      "build a root filesystem image (cpio, ext4, erofs) from a directory, archive, image or Debian suite",
    load: () => import("./rootfs-build.js"),
  },
  {
    name: ["rootfs", "ls"],
    summary: "list the entries of a CPIO root filesystem (initrd)",
    load: () => import("./rootfs-ls.js"),
  },
];
