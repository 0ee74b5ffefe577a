/**
 * Host networking for machines beyond QEMU's user-mode network: an existing
 * tap device (`--network tap[:DEV]`) or a Linux bridge through QEMU's
 * setuid `qemu-bridge-helper` (`--network bridge[:BR]`).
 *
 * Kiln never creates host interfaces: that needs CAP_NET_ADMIN, and Kiln's
 * main flows never need root. Instead it checks, before anything starts, what
 * QEMU would otherwise report as "could not configure /dev/net/tun:
 * Operation not permitted" or "failed to parse default acl file", and says
 * what to run once as root.
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { KilnError, usageError } from "../core/errors.js";
import type { MachineSpec, NetworkMode } from "./driver.js";

/** QEMU's default bridge for `-netdev bridge` (qemu-bridge-helper's `br0`). */
export const DEFAULT_BRIDGE = "br0";
/** Where Debian's qemu-system-common installs the bridge helper. */
export const BRIDGE_HELPER = "/usr/lib/qemu/qemu-bridge-helper";
/** The helper's access list (QEMU docs, "qemu-bridge-helper"). */
export const BRIDGE_ACL = "/etc/qemu/bridge.conf";

/** Name of the tap device Kiln gives a machine by default (Linux caps interface names at 15 characters). */
export function tapNameFor(name: string): string {
  return `kt-${name.replace(/[^A-Za-z0-9_-]/g, "")}`.slice(0, 15);
}

/** Linux interface names: 1–15 characters, no `/`, whitespace or `:` (dev_valid_name). */
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

/**
 * Parse `--network MODE[:DEVICE]` (pure). `tap` defaults its device to
 * {@link tapNameFor}(machine name), `bridge` to {@link DEFAULT_BRIDGE}.
 */
export function parseNetworkOption(text: string): { network: NetworkMode; networkDevice?: string } {
  const [mode, device, ...extra] = text.split(":");
  if (!mode || !["user", "none", "tap", "bridge"].includes(mode) || extra.length > 0) {
    throw usageError(
      `--network must be user, none, tap[:DEVICE] or bridge[:BRIDGE]; got "${text}"`,
      "user (the default) needs no privileges; -p forwards ports over it",
    );
  }
  if (device === undefined) return { network: mode as NetworkMode };
  if (mode === "user" || mode === "none") {
    throw usageError(`--network ${mode} takes no device; got "${text}"`);
  }
  if (!IFNAME.test(device)) {
    throw usageError(
      `--network ${mode}: "${device}" is not a Linux interface name (1-15 letters, digits, _ . -)`,
    );
  }
  return { network: mode as NetworkMode, networkDevice: device };
}

/** The host device a tap/bridge spec uses. */
export function networkDeviceFor(spec: Pick<MachineSpec, "name" | "network" | "networkDevice">): string {
  if (spec.networkDevice) return spec.networkDevice;
  return spec.network === "bridge" ? DEFAULT_BRIDGE : tapNameFor(spec.name);
}

/** The host facts {@link checkHostNetwork} reads; tests point them at a scratch tree. */
export interface HostNetworkPaths {
  sysClassNet: string;
  tunDevice: string;
  bridgeHelper: string;
  bridgeAcl: string;
  uid: number;
}

export function defaultHostNetworkPaths(): HostNetworkPaths {
  return {
    sysClassNet: "/sys/class/net",
    tunDevice: "/dev/net/tun",
    bridgeHelper: BRIDGE_HELPER,
    bridgeAcl: BRIDGE_ACL,
    uid: process.getuid?.() ?? 0,
  };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Check that a tap or bridge network can be used by this user, before QEMU
 * starts. Throws `NETWORK_PRIVILEGES` stating what is missing and the
 * one-time root command that provides it. No-op for `user`/`none`.
 */
export function checkHostNetwork(
  spec: Pick<MachineSpec, "name" | "network" | "networkDevice">,
  host: HostNetworkPaths = defaultHostNetworkPaths(),
): void {
  if (spec.network !== "tap" && spec.network !== "bridge") return;
  const dev = networkDeviceFor(spec);
  const who = host.uid === 0 ? "root" : `uid ${host.uid}`;
  const fail = (message: string, hint: string): never => {
    throw new KilnError("NETWORK_PRIVILEGES", message, { hint });
  };
  if (spec.network === "tap") {
    const sys = join(host.sysClassNet, dev);
    if (!existsSync(sys)) {
      fail(
        `--network tap needs the tap device ${dev}, which does not exist; creating one requires CAP_NET_ADMIN and Kiln does not do it`,
        `once, as root: ip tuntap add dev ${dev} mode tap user ${host.uid} && ip link set ${dev} up`,
      );
    }
    // tun_flags exists only on tun/tap devices; IFF_TAP is 0x0002 (linux/if_tun.h).
    const flags = readText(join(sys, "tun_flags"));
    if (flags === undefined || (Number.parseInt(flags.trim(), 16) & 0x2) === 0) {
      fail(
        `--network tap: ${dev} is not a tap device`,
        `name a tap device (--network tap:DEV), or create one as root: ip tuntap add dev ${dev} mode tap user ${host.uid}`,
      );
    }
    // A persistent tap with an owner may only be attached by that owner (or root).
    const owner = Number((readText(join(sys, "owner")) ?? "-1").trim());
    if (host.uid !== 0 && owner !== -1 && owner !== host.uid) {
      fail(
        `--network tap: ${dev} belongs to uid ${owner}, and you are ${who}`,
        `as root: ip tuntap del dev ${dev} mode tap && ip tuntap add dev ${dev} mode tap user ${host.uid}`,
      );
    }
    try {
      accessSync(host.tunDevice, constants.R_OK | constants.W_OK);
    } catch {
      fail(
        `--network tap: ${host.tunDevice} is not readable and writable by ${who}`,
        "as root: chmod 0666 /dev/net/tun (Debian's default)",
      );
    }
    return;
  }
  // bridge: QEMU runs qemu-bridge-helper, which must be setuid root (or we are root)
  // and whose ACL must allow the bridge.
  if (!existsSync(join(host.sysClassNet, dev, "bridge"))) {
    fail(
      `--network bridge needs the bridge ${dev}, which does not exist; creating one requires CAP_NET_ADMIN and Kiln does not do it`,
      `once, as root: ip link add ${dev} type bridge && ip link set ${dev} up (or name another: --network bridge:BR)`,
    );
  }
  const helperMode = existsSync(host.bridgeHelper) ? statSync(host.bridgeHelper).mode : undefined;
  if (helperMode === undefined) {
    fail(
      `--network bridge needs ${host.bridgeHelper}, which is missing`,
      "apt-get install qemu-system-common",
    );
  }
  if (host.uid !== 0 && ((helperMode ?? 0) & 0o4000) === 0) {
    fail(
      `--network bridge: ${host.bridgeHelper} is not setuid root, so ${who} cannot attach to ${dev}`,
      `once, as root: chmod u+s ${host.bridgeHelper}`,
    );
  }
  const acl = readText(host.bridgeAcl);
  if (acl !== undefined) {
    const allowed = acl
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .some(([verb, name]) => verb === "allow" && (name === dev || name === "all"));
    if (!allowed) {
      fail(
        `--network bridge: ${host.bridgeAcl} does not allow the bridge ${dev}`,
        `once, as root: echo 'allow ${dev}' >> ${host.bridgeAcl}`,
      );
    }
  } else if (!existsSync(host.bridgeAcl)) {
    fail(
      `--network bridge: ${host.bridgeAcl} is missing, so qemu-bridge-helper refuses every bridge`,
      `once, as root: mkdir -p /etc/qemu && echo 'allow ${dev}' >> ${host.bridgeAcl}`,
    );
  }
  // An unreadable ACL (mode 0640 root:kvm is common) is the helper's to read: let it decide.
}

/**
 * QEMU `-netdev` for a spec's network (pure); undefined for `none`.
 *
 * User mode is `restrict=on` unless `allowHostLoopback`: slirp maps 10.0.2.2
 * to the host's 127.0.0.1, so an unrestricted guest reaches every service
 * bound to the host's loopback (issue 9). QEMU has no switch for loopback
 * alone (Podman's slirp4netns/pasta default `allow_host_loopback=false`
 * uses one libslirp has but QEMU does not expose), so the guest's own
 * outbound connections go as a whole; `-p` forwards still work.
 */
export function qemuNetdev(
  spec: Pick<MachineSpec, "name" | "network" | "networkDevice" | "ports" | "allowHostLoopback" | "guestIp">,
): string | undefined {
  switch (spec.network) {
    case "none":
      return undefined;
    case "user":
      return `user,id=net0${spec.allowHostLoopback ? "" : ",restrict=on"}${spec.ports
        // Forwards go to slirp's first DHCP address unless the guest has its own (--ip).
        .map(
          (p) =>
            `,hostfwd=${p.protocol}:${p.hostIp}:${p.hostPort}-${spec.guestIp?.address ?? ""}:${p.guestPort}`,
        )
        .join("")}`;
    case "tap":
      // script=no/downscript=no: the device exists already; QEMU must not run /etc/qemu-ifup as us.
      return `tap,id=net0,ifname=${networkDeviceFor(spec)},script=no,downscript=no`;
    case "bridge":
      return `bridge,id=net0,br=${networkDeviceFor(spec)},helper=${BRIDGE_HELPER}`;
  }
}
