/**
 * `kiln rootfs ls FILE`: list a CPIO archive (newc, plain or gzip), like
 * `cpio -t` (names) or `cpio -tv` (`-l`), or as JSON for scripts.
 */

import { usageError } from "../../core/errors.js";
import { formatLongListing, listCpio, printableName } from "../../image/cpio/list.js";
import { bool, type CommandDef } from "../command.js";

const command: CommandDef = {
  name: ["rootfs", "ls"],
  summary: "list the entries of a CPIO root filesystem (initrd)",
  usage: "rootfs ls FILE [-l] [--json]",
  maxPositionals: 1,
  options: {
    long: {
      type: "boolean",
      short: "l",
      description: "long listing: mode, owner, size, date, path -> target",
    },
    json: { type: "boolean", description: "print a JSON array of entries" },
  },
  details: [
    "FILE is a CPIO archive in newc format, optionally gzip-compressed (as Linux initramfs images are).",
    "",
    "examples:",
    "  kiln rootfs ls initrd.cpio",
    "  kiln rootfs ls -l initramfs.cpio.gz",
    "  kiln rootfs ls --json initrd.cpio | jq '.[] | select(.type == \"char\")'",
  ].join("\n"),
  async run(ctx) {
    const file = ctx.positionals[0];
    if (file === undefined) throw usageError("missing FILE", "usage: kiln rootfs ls FILE [-l] [--json]");
    const entries = await listCpio(file);
    if (bool(ctx, "json")) {
      ctx.out(`${JSON.stringify(entries, null, 2)}\n`);
    } else if (bool(ctx, "long")) {
      const lines = formatLongListing(entries);
      ctx.out(lines.length ? `${lines.join("\n")}\n` : "");
    } else {
      ctx.out(entries.map((e) => `${printableName(e.path)}\n`).join(""));
    }
    return 0;
  },
};

export default command;
