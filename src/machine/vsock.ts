/**
 * `kiln run --vsock CID`: a virtio-vsock device, so host programs and the guest
 * talk over sockets without any network. Pure rules shared by both VMMs:
 * the CID's range, and QEMU's need for the host's `vhost_vsock` module.
 *
 * - Firecracker implements vsock itself and bridges it to a Unix socket on the
 *   host (`<instanceDir>/vsock.sock`; see `firecracker/driver.ts`): no kernel
 *   module, no privileges.
 * - QEMU's `vhost-vsock-pci` / `vhost-vsock-device` hand the data path to the
 *   host kernel through `/dev/vhost-vsock`, which exists only once the
 *   `vhost_vsock` module is loaded (a one-time root step Kiln never takes).
 */
import { KilnError, usageError } from "../core/errors.js";

/**
 * The smallest CID a guest can have: vsock(7) reserves 0 (the hypervisor),
 * 1 (local loopback) and 2 (`VMADDR_CID_HOST`).
 */
export const VSOCK_MIN_GUEST_CID = 3;

/**
 * The largest: CIDs are 32-bit, and 2^32 - 1 is `VMADDR_CID_ANY` (vsock(7)),
 * which Linux's vhost_vsock also refuses as a guest CID (`vhost_vsock_set_cid`).
 */
export const VSOCK_MAX_GUEST_CID = 2 ** 32 - 2;

/** The host device QEMU's vhost-vsock opens (created by the `vhost_vsock` module). */
export const VHOST_VSOCK_DEVICE = "/dev/vhost-vsock";

/** The `--vsock` rule, as stated in errors and help. */
export const VSOCK_CID_RULE = `a whole number from ${VSOCK_MIN_GUEST_CID} to ${VSOCK_MAX_GUEST_CID} (0-2 are reserved: hypervisor, local, host; ${VSOCK_MAX_GUEST_CID + 1} is VMADDR_CID_ANY)`;

/** Whether `cid` is a CID a guest may have. */
export function isValidGuestCid(cid: number): boolean {
  return Number.isInteger(cid) && cid >= VSOCK_MIN_GUEST_CID && cid <= VSOCK_MAX_GUEST_CID;
}

/** Parse `--vsock CID`; throws `USAGE` stating the rule and the value seen. */
export function parseVsockCid(text: string): number {
  const cid = /^\d{1,20}$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!isValidGuestCid(cid)) {
    throw usageError(
      `--vsock CID must be ${VSOCK_CID_RULE}; got "${text}"`,
      "use a CID no other machine on this host has, e.g. --vsock 3",
    );
  }
  return cid;
}

/**
 * Throw `VSOCK_UNAVAILABLE` unless QEMU can give a guest vsock here: it needs
 * `/dev/vhost-vsock` (`present` is that host fact, checked by the caller).
 */
export function checkQemuVsock(present: boolean): void {
  if (present) return;
  throw new KilnError(
    "VSOCK_UNAVAILABLE",
    `--vsock on QEMU needs the host's vhost-vsock device ${VHOST_VSOCK_DEVICE}, which does not exist (the vhost_vsock kernel module is not loaded)`,
    {
      hint: "load it once as root: modprobe vhost_vsock; or use --vmm firecracker, which provides vsock through a Unix socket in the machine's directory without any kernel module",
    },
  );
}
