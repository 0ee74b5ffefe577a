/**
 * Pure parsers for `kiln run`'s machine options: `-p [IP:]HOST:GUEST[/tcp|udp]`
 * (Docker's syntax), `-v SRC:DST[:ro]`, `-e K=V`, and machine names.
 */
import { randomInt } from "node:crypto";
import { isAbsolute, resolve } from "node:path";
import { KilnError, usageError } from "../core/errors.js";
import type { DriveSpec, PortForward, VolumeSpec } from "./driver.js";

function port(text: string, what: string, whole: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= 65535)) {
    throw usageError(
      `${what} port "${text}" in -p ${whole} is not a number from 1 to 65535`,
      "write -p [IP:]HOST:GUEST[/tcp|udp], e.g. -p 8080:80",
    );
  }
  return n;
}

/** Parse `-p [IP:]HOST:GUEST[/tcp|udp]`; the host address defaults to 127.0.0.1. */
export function parsePortForward(text: string): PortForward {
  const [addr, proto = "tcp", ...extra] = text.split("/");
  if (extra.length > 0 || (proto !== "tcp" && proto !== "udp")) {
    throw usageError(`protocol in -p ${text} must be tcp or udp`, "e.g. -p 5353:53/udp");
  }
  const parts = (addr ?? "").split(":");
  let hostIp = "127.0.0.1";
  let host: string | undefined;
  let guest: string | undefined;
  if (parts.length === 2) [host, guest] = parts;
  else if (parts.length === 3) [hostIp, host, guest] = parts as [string, string, string];
  else
    throw usageError(`-p ${text} is not [IP:]HOST:GUEST[/tcp|udp]`, "e.g. -p 8080:80 or -p 0.0.0.0:8080:80");
  if (!/^(\d{1,3}\.){3}\d{1,3}$/.test(hostIp) || hostIp.split(".").some((o) => Number(o) > 255)) {
    throw usageError(`host address "${hostIp}" in -p ${text} is not an IPv4 address`);
  }
  return {
    hostIp,
    hostPort: port(host ?? "", "host", text),
    guestPort: port(guest ?? "", "guest", text),
    protocol: proto,
  };
}

/** Parse `-v SRC:DST[:ro|rw]` (SRC relative to `cwd`); `index` names the 9p tag `fs<index>`. */
export function parseVolume(text: string, cwd: string, index: number): VolumeSpec {
  const parts = text.split(":");
  const opts = parts.length === 3 ? parts[2]!.split(",") : [];
  const bad = () =>
    usageError(
      `-v ${text} is not SRC:DST[:ro|rw][,tag=NAME]`,
      "e.g. -v ./data:/data, -v /srv/www:/www:ro or -v ./rootfs:/:tag=fs1",
    );
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) throw bad();
  let readonly = false;
  let tag: string | undefined;
  for (const o of opts) {
    if (o === "ro" || o === "rw") readonly = o === "ro";
    else if (o.startsWith("tag=")) tag = o.slice(4);
    else throw bad();
  }
  // QEMU's virtio-9p mount_tag: at most 31 bytes; Kiln also keeps it free of the separators
  // of QEMU options and of Unikraft's fstab entries (`,` `:` `"`).
  if (tag !== undefined && !/^[A-Za-z0-9_.-]{1,31}$/.test(tag)) {
    throw usageError(
      `9p tag "${tag}" in -v ${text} is not 1 to 31 letters, digits, '_', '.' or '-'`,
      "e.g. -v ./rootfs:/:tag=fs1",
    );
  }
  if (!isAbsolute(parts[1])) throw usageError(`guest path "${parts[1]}" in -v ${text} must be absolute`);
  return {
    hostPath: resolve(cwd, parts[0]),
    guestPath: parts[1],
    readonly,
    tag: tag ?? `fs${index}`,
    ...(tag !== undefined ? { tagGiven: true } : {}),
  };
}

/**
 * Parse firectl's `--add-drive PATH[:ro|:rw]` (PATH relative to `cwd`;
 * writable unless `:ro`). Only a final `:ro` or `:rw` is an option, so a path
 * holding `:` elsewhere is taken whole.
 */
export function parseDrive(text: string, cwd: string): DriveSpec {
  const m = /^(.*):(ro|rw)$/.exec(text);
  const path = m ? m[1]! : text;
  if (path === "") {
    throw usageError(
      `--add-drive "${text}" has no path`,
      "write --add-drive PATH[:ro|:rw], e.g. data.ext4:ro",
    );
  }
  return { path: resolve(cwd, path), readOnly: m?.[2] === "ro" };
}

/** Parse firectl's `--vsock-device PATH:CID` into the socket path (relative to `cwd`) and the CID text. */
export function parseVsockDevice(text: string, cwd: string): { hostPath: string; cid: string } {
  const i = text.lastIndexOf(":");
  if (i <= 0 || i === text.length - 1) {
    throw usageError(
      `--vsock-device "${text}" is not PATH:CID`,
      "e.g. --vsock-device /tmp/vm.vsock:3 (firectl's form; Firecracker only)",
    );
  }
  return { hostPath: resolve(cwd, text.slice(0, i)), cid: text.slice(i + 1) };
}

/** Parse `-e K=V` (or `-e K`, taking V from `env`). */
export function parseEnvVar(text: string, env: NodeJS.ProcessEnv): [string, string] {
  const eq = text.indexOf("=");
  const key = eq === -1 ? text : text.slice(0, eq);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw usageError(`-e ${text}: "${key}" is not a variable name`);
  return [key, eq === -1 ? (env[key] ?? "") : text.slice(eq + 1)];
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

/** Check a user-given machine name (it becomes a directory name). */
export function validateName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw new KilnError("INVALID_NAME", `machine name "${name}" is not allowed`, {
      hint: "use letters, digits, '_', '.', '-' (at most 63 characters, starting with a letter or digit)",
    });
  }
  return name;
}

const ADJECTIVES = [
  "amber",
  "brave",
  "calm",
  "dusty",
  "eager",
  "fuzzy",
  "gentle",
  "hasty",
  "icy",
  "jolly",
  "keen",
  "lucid",
  "mellow",
  "nimble",
  "odd",
  "proud",
  "quiet",
  "rapid",
  "shy",
  "tidy",
  "umber",
  "vivid",
  "witty",
  "zesty",
];
const NOUNS = [
  "anvil",
  "bellows",
  "crucible",
  "ember",
  "flux",
  "forge",
  "glaze",
  "hearth",
  "ingot",
  "kettle",
  "lathe",
  "mould",
  "nozzle",
  "oven",
  "poker",
  "quench",
  "slag",
  "tongs",
  "vent",
  "wick",
  "coal",
  "spark",
  "clay",
  "ash",
];

/** A Docker-style `adjective_noun` name. */
export function generateName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${NOUNS[randomInt(NOUNS.length)]}`;
}
