/**
 * kraft's `--ip` and `--mac` for the guest's NIC (pure).
 *
 * - `--mac XX:XX:XX:XX:XX:XX`: the virtio-net device's address (QEMU
 *   `mac=`, Firecracker `guest_mac`), as KraftKit sets `QemuDeviceVirtioNetPci{Mac}`.
 * - `--ip ADDR[/PREFIX][:GATEWAY[:DNS0[:DNS1]]]`: KraftKit's network
 *   interface fields (`network:cidr:gw:dns0:dns1`, internal/cli/kraft/run/utils.go).
 *   A Unikraft guest gets them as KraftKit passes them, the uknetdev library
 *   parameter `netdev.ip=CIDR:GW:DNS0:DNS1:HOSTNAME:DOMAIN`
 *   (unikraft/export/v0/uknetdev/params.go; lwip configures the interface
 *   from it); a Linux guest gets the kernel's `ip=` in its documented order
 *   (Documentation/admin-guide/nfs/nfsroot.rst:
 *   `ip=<client>:<server>:<gw>:<netmask>:<host>:<device>:<autoconf>:<dns0>:<dns1>`),
 *   which the kernel's IP autoconfiguration and initramfs-tools read.
 * - On the user-mode network, QEMU's slirp serves 10.0.2.0/24 (gateway
 *   10.0.2.2, DNS 10.0.2.3, DHCP from 10.0.2.15): the address must be in it,
 *   gateway and DNS default to slirp's, and `-p` forwards go to the address.
 */
import { usageError } from "../core/errors.js";

/** The guest's static IPv4 configuration. */
export interface GuestIp {
  address: string;
  prefixLength: number;
  gateway?: string;
  dns: string[];
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function ipv4(text: string, what: string, whole: string): number {
  const m = IPV4.exec(text);
  const octets = m ? m.slice(1).map(Number) : [];
  if (!m || octets.some((o) => o > 255)) {
    throw usageError(
      `${what} "${text}" in --ip ${whole} is not an IPv4 address`,
      "write --ip ADDR[/PREFIX][:GATEWAY[:DNS0[:DNS1]]], e.g. --ip 10.0.2.20/24",
    );
  }
  return octets.reduce((n, o) => n * 256 + o, 0);
}

/** slirp's network (QEMU's user-mode defaults: net=10.0.2.0/24, host=10.0.2.2, dns=10.0.2.3). */
export const USER_NET = { base: "10.0.2.0", prefixLength: 24, gateway: "10.0.2.2", dns: "10.0.2.3" };

/** Parse `--ip` for a machine on `network` (user-mode: inside slirp's network, its gateway and DNS by default). */
export function parseGuestIp(text: string, network: string): GuestIp {
  if (network === "none") {
    throw usageError("--ip configures the guest's NIC, and --network none gives it none");
  }
  const [cidr = "", gateway, dns0, dns1, ...extra] = text.split(":");
  if (extra.length > 0) {
    throw usageError(
      `--ip ${text} has more than four fields`,
      "write --ip ADDR[/PREFIX][:GATEWAY[:DNS0[:DNS1]]]",
    );
  }
  const [address = "", prefixText, ...more] = cidr.split("/");
  const addr = ipv4(address, "address", text);
  const prefixLength = prefixText === undefined ? 24 : /^\d{1,2}$/.test(prefixText) ? Number(prefixText) : -1;
  if (more.length > 0 || prefixLength < 1 || prefixLength > 30) {
    throw usageError(
      `prefix length "/${prefixText}" in --ip ${text} is not 1 to 30`,
      "e.g. --ip 10.0.2.20/24",
    );
  }
  for (const [what, v] of [
    ["gateway", gateway],
    ["DNS server", dns0],
    ["DNS server", dns1],
  ] as const)
    if (v) ipv4(v, what, text);
  if (network === "user") {
    const base = ipv4(USER_NET.base, "network", text);
    const host = addr - base;
    if (host < 4 || host > 254 || prefixLength !== USER_NET.prefixLength) {
      throw usageError(
        `--ip ${text}: on the user-mode network the guest's address must be in ${USER_NET.base}/${USER_NET.prefixLength}, from .4 to .254 (QEMU's slirp: .2 is the gateway, .3 DNS)`,
        "e.g. --ip 10.0.2.20; for other addresses use --network tap:DEV",
      );
    }
  }
  const user = network === "user";
  const g = gateway || (user ? USER_NET.gateway : undefined);
  const dns = [dns0 || (user ? USER_NET.dns : ""), dns1 ?? ""].filter((d) => d !== "");
  return { address, prefixLength, ...(g ? { gateway: g } : {}), dns };
}

function netmask(prefixLength: number): string {
  const n = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}

/** Unikraft's `netdev.ip=` argument, with KraftKit's six fields (hostname and domain empty). */
export function unikraftIpArg(ip: GuestIp): string {
  return `netdev.ip=${[`${ip.address}/${ip.prefixLength}`, ip.gateway ?? "", ip.dns[0] ?? "", ip.dns[1] ?? "", "", ""].join(":")}`;
}

/** Linux's `ip=` argument for the first NIC (`eth0`), autoconfiguration off. */
export function linuxIpArg(ip: GuestIp): string {
  const fields = [ip.address, "", ip.gateway ?? "", netmask(ip.prefixLength), "", "eth0", "off", ...ip.dns];
  return `ip=${fields.join(":")}`;
}

/**
 * Parse `--mac`: six hex pairs separated by `:` (or `-`), returned as QEMU
 * and Firecracker write it, lower case with `:`. A group (multicast) address
 * cannot be a NIC's own: refused.
 */
export function parseMac(text: string): string {
  if (!/^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$/.test(text)) {
    throw usageError(`--mac "${text}" is not a MAC address (six hex pairs)`, "e.g. --mac 52:54:00:12:34:56");
  }
  const mac = text.toLowerCase().replaceAll("-", ":");
  if (Number.parseInt(mac.slice(0, 2), 16) & 1) {
    throw usageError(
      `--mac ${text} is a multicast (group) address, which a NIC cannot have`,
      "the first byte must be even, e.g. 52:54:00:… (QEMU's locally administered prefix)",
    );
  }
  return mac;
}
