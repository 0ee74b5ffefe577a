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
  },
  {
    name: ["build"],
    summary: "configure and build a project's Unikraft targets",
    load: () => import("./build.js"),
  },
  {
    name: ["config"],
    summary:
      "Kconfig operations on a Linux tree: olddefconfig, defconfig, all*config, savedefconfig, why, set, unset",
    load: () => import("./config.js"),
  },
  {
    name: ["clean"],
    summary: "remove a project's Unikraft build outputs",
    load: () => import("./clean.js"),
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
];
