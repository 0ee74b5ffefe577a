/**
 * `kiln run`'s flag checks that need no planning: kraft's `-m/--arch`,
 * `--symbolic`, `--no-start`, `--prefix`; firectl's `--vsock-device`.
 */
import { existsSync } from "node:fs";
import { KilnError, usageError } from "../core/errors.js";
import { parseVsockDevice } from "../machine/spec.js";
import { bool, type CommandContext, str } from "./command.js";

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

/** Architecture spellings (Debian's, Unikraft's, the kernel's) of the two Kiln runs. */
const ARCH_ALIASES: Record<string, string> = {
  x86_64: "x86_64",
  "x86-64": "x86_64",
  amd64: "x86_64",
  arm64: "arm64",
  aarch64: "arm64",
};

/** `-m/--arch` with a kernel file: the kernel must be built for it (kraft checks the same for a package). */
export function checkArch(flag: string | undefined, detected: string, kernel: string): void {
  if (flag === undefined) return;
  const want = ARCH_ALIASES[flag.toLowerCase()];
  if (!want) throw usageError(`-m/--arch "${flag}" is not x86_64 or arm64`);
  if (want !== detected) {
    throw new KilnError("RUN_ARCH_MISMATCH", `-m ${flag}: ${kernel} is an ${detected} kernel`, {
      hint: `leave out -m, or give a kernel built for ${want}`,
    });
  }
}

/** The `.dbg` image Unikraft's build writes beside the kernel (kraft run --symbolic boots it). */
export function symbolicImage(kernel: string): string {
  const dbg = kernel.endsWith(".dbg") ? kernel : `${kernel}.dbg`;
  if (!existsSync(dbg)) {
    throw new KilnError("RUN_NO_SYMBOLIC", `--symbolic: there is no ${dbg} beside ${kernel}`, {
      hint: "Unikraft's build writes KERNEL.dbg (the image with symbols); build the target first",
    });
  }
  return dbg;
}

/** `--no-start` creates a machine: flags about watching or attaching a run do not apply. */
export function checkNoStart(ctx: CommandContext): void {
  for (const flag of ["wait-for", "timeout", "interactive", "prefix", "prefix-name"]) {
    if (ctx.values[flag] !== undefined && ctx.values[flag] !== false) {
      throw usageError(
        `--no-start creates the machine without running it, so --${flag} has nothing to act on`,
        "kiln start NAME runs it detached; then kiln attach/logs/wait NAME",
      );
    }
  }
}

/** kraft's `--prefix TEXT` / `--prefix-name` for a foreground run's console lines. */
export function consolePrefix(ctx: CommandContext): { consolePrefix?: string | true } {
  const text = str(ctx, "prefix");
  if (text !== undefined && bool(ctx, "prefix-name"))
    throw usageError("--prefix TEXT and --prefix-name both set the prefix: give one");
  if ((text !== undefined || bool(ctx, "prefix-name")) && bool(ctx, "detach")) {
    throw usageError(
      `--${text !== undefined ? "prefix" : "prefix-name"} prefixes the console a foreground run prints; -d prints none`,
      "kiln logs NAME prints a detached machine's console",
    );
  }
  if (text !== undefined) return { consolePrefix: text };
  return bool(ctx, "prefix-name") ? { consolePrefix: true } : {};
}

/** `--vsock CID [--vsock-path PATH]`, or firectl's `--vsock-device PATH:CID` (not both). */
export function vsockFlags(ctx: CommandContext): { vsock?: string; vsockPath?: string } {
  const device = str(ctx, "vsock-device");
  const cid = str(ctx, "vsock");
  const path = str(ctx, "vsock-path");
  if (device === undefined) return { ...optional("vsock", cid), ...optional("vsockPath", path) };
  if (cid !== undefined || path !== undefined) {
    throw usageError(
      "--vsock-device PATH:CID is firectl's spelling of --vsock CID --vsock-path PATH: give one",
    );
  }
  const parsed = parseVsockDevice(device, ctx.cwd);
  return { vsock: parsed.cid, vsockPath: parsed.hostPath };
}
