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
    name: ["config"],
    summary:
      "Kconfig operations on a Linux tree or a project target: olddefconfig, defconfig, all*config, savedefconfig, why, set, unset",
    load: () => import("./config.js"),
  },
  {
    name: ["menu"],
    summary:
      "menuconfig for a project target on Kiln's Kconfig engine, with search, why and Kraftfile saving",
    load: () => import("./menu.js"),
    // KraftKit's `kraft menu`; Unikraft's make spells it menuconfig
    aliases: [["menuconfig"]],
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
    name: ["doctor"],
    summary: "check what this host can do: QEMU, KVM (and why not), firmware, tools, caches",
    load: () => import("./doctor.js"),
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
    name: ["kernel", "build"],
    summary: "build a Linux guest kernel from source with Kiln's microVM baseline or a .config",
    load: () => import("./kernel-build.js"),
  },
  {
    name: ["kernel", "check"],
    summary: "list the options a kernel configuration lacks for Firecracker or QEMU",
    load: () => import("./kernel-check.js"),
  },
  {
    name: ["config", "menu"],
    summary: "menuconfig for a Linux tree on Kiln's Kconfig engine, with search and why",
    load: () => import("./config-menu.js"),
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
  {
    name: ["pkg"],
    summary: "package built targets or a kernel as an OCI image (KraftKit's layout)",
    load: () => import("./pkg.js"),
  },
  { name: ["pkg", "ls"], summary: "list the packages in the local store", load: () => import("./pkg-ls.js") },
  { name: ["pkg", "rm"], summary: "remove packages from the local store", load: () => import("./pkg-rm.js") },
  {
    name: ["pkg", "inspect"],
    summary: "show a stored package's index, manifests, config and annotations",
    load: () => import("./pkg-inspect.js"),
  },
  {
    name: ["pkg", "push"],
    summary: "push a stored package to a registry",
    load: () => import("./pkg-push.js"),
  },
  {
    name: ["pkg", "pull"],
    summary: "pull a package from a registry into the local store",
    load: () => import("./pkg-pull.js"),
  },
  {
    name: ["pkg", "export"],
    summary: "write a stored package as an OCI image layout tar",
    load: () => import("./pkg-export.js"),
  },
  {
    name: ["pkg", "import"],
    summary: "import an OCI image layout tar into the local store",
    load: () => import("./pkg-import.js"),
  },
];
