/**
 * Linux guest set-up, as Firecracker's rootfs guide (seed 004) does by hand in
 * an Alpine container: a login on the serial console `ttyS0`, proc/sys/dev
 * mounted at boot, a hostname, a chosen `/sbin/init` and an SSH key.
 *
 * `planGuestSetup` is pure (facts about the tree in, file operations out);
 * `applyGuestSetup` looks at the tree and performs them. The init system
 * decides the form: systemd (enable `serial-getty@ttyS0`), OpenRC
 * (`rc-update add agetty.ttyS0 default`, devfs/procfs/sysfs at boot, as the
 * guide), BusyBox init or sysvinit (an `/etc/inittab` getty line).
 */
import { appendFile, chmod, lstat, mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join, posix } from "node:path";
import { KilnError } from "../core/errors.js";
import type { Reporter } from "../core/output.js";
import { resolveInScope } from "./tree.js";

export interface GuestSetupOptions {
  /** Hostname written to /etc/hostname (default `kiln`). */
  hostname?: string;
  /** Make `/sbin/init` a symlink to this path inside the guest (it must exist there). */
  init?: string;
  /** An SSH public key line for /root/.ssh/authorized_keys. */
  sshPublicKey?: string;
  /** Serial console device (default `ttyS0`; `ttyAMA0` on Arm). */
  console?: string;
  /**
   * Let root log in on the console without a password, as root does in the
   * Alpine image Firecracker's rootfs guide uses (Debian's root is locked: `*`).
   */
  passwordlessRoot?: boolean;
}

export type InitSystem = "systemd" | "openrc" | "busybox" | "sysvinit" | "other";

/** What the planner needs to know about a tree. */
export interface GuestFacts {
  initSystem: InitSystem;
  /** Guest path of the busybox binary, when there is one. */
  busybox?: string;
  /** Current /etc/inittab, if any. */
  inittab?: string;
  /** Current /etc/shadow, if any (read only when a passwordless root is asked for). */
  shadow?: string;
  /** Which of these exist in the guest. */
  exists: Set<string>;
}

export type GuestFileOp =
  | { op: "mkdir"; path: string; mode: number }
  | { op: "write"; path: string; content: string; mode: number }
  | { op: "append"; path: string; content: string }
  | { op: "symlink"; path: string; target: string };

const HOSTNAME_RE =
  /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/** The operations that set a guest up (pure). Paths are absolute guest paths. */
export function planGuestSetup(facts: GuestFacts, opts: GuestSetupOptions): GuestFileOp[] {
  const hostname = opts.hostname ?? "kiln";
  if (!HOSTNAME_RE.test(hostname) || hostname.length > 253) {
    throw new KilnError("ROOTFS_BAD_HOSTNAME", `hostname "${hostname}" is not a valid host name (RFC 1123)`);
  }
  const tty = opts.console ?? "ttyS0";
  const ops: GuestFileOp[] = [];
  for (const d of ["/proc", "/sys", "/dev", "/run", "/etc"]) ops.push({ op: "mkdir", path: d, mode: 0o755 });
  ops.push({ op: "mkdir", path: "/tmp", mode: 0o1777 }, { op: "mkdir", path: "/root", mode: 0o700 });
  ops.push({ op: "write", path: "/etc/hostname", content: `${hostname}\n`, mode: 0o644 });
  if (!facts.exists.has("/etc/hosts")) {
    ops.push({
      op: "write",
      path: "/etc/hosts",
      content: `127.0.0.1\tlocalhost\n127.0.1.1\t${hostname}\n`,
      mode: 0o644,
    });
  }
  if (!facts.exists.has("/etc/fstab")) {
    ops.push({
      op: "write",
      path: "/etc/fstab",
      content: [
        "# written by kiln rootfs build --guest-setup",
        "proc\t/proc\tproc\tdefaults\t0 0",
        "sysfs\t/sys\tsysfs\tdefaults\t0 0",
        "devtmpfs\t/dev\tdevtmpfs\tdefaults\t0 0",
        "",
      ].join("\n"),
      mode: 0o644,
    });
  }
  switch (facts.initSystem) {
    case "systemd":
      // What `systemctl enable serial-getty@ttyS0.service` creates (systemd-getty-generator also does it at boot).
      ops.push({ op: "mkdir", path: "/etc/systemd/system/getty.target.wants", mode: 0o755 });
      ops.push({
        op: "symlink",
        path: `/etc/systemd/system/getty.target.wants/serial-getty@${tty}.service`,
        target: "/lib/systemd/system/serial-getty@.service",
      });
      break;
    case "openrc":
      ops.push({ op: "symlink", path: `/etc/init.d/agetty.${tty}`, target: "agetty" });
      ops.push({ op: "write", path: "/etc/securetty", content: `${tty}\n`, mode: 0o644 });
      ops.push({ op: "mkdir", path: "/etc/runlevels/default", mode: 0o755 });
      ops.push({ op: "mkdir", path: "/etc/runlevels/boot", mode: 0o755 });
      ops.push({
        op: "symlink",
        path: `/etc/runlevels/default/agetty.${tty}`,
        target: `/etc/init.d/agetty.${tty}`,
      });
      for (const s of ["devfs", "procfs", "sysfs"]) {
        ops.push({ op: "symlink", path: `/etc/runlevels/boot/${s}`, target: `/etc/init.d/${s}` });
      }
      break;
    case "busybox": {
      const bb = facts.busybox ?? "/bin/busybox";
      if (facts.inittab === undefined) {
        // BusyBox's default when there is no inittab (init/init.c parse_inittab) runs /etc/init.d/rcS
        // and shells on the consoles; Kiln writes the equivalent with mounts and a getty on the serial console.
        ops.push({
          op: "write",
          path: "/etc/inittab",
          content: [
            "# written by kiln rootfs build --guest-setup",
            `::sysinit:${bb} mkdir -p /proc /sys /dev /dev/pts`,
            `::sysinit:${bb} mount -a`,
            `::sysinit:${bb} mount -t devpts devpts /dev/pts`,
            `::sysinit:${bb} hostname -F /etc/hostname`,
            ...(facts.exists.has("/etc/init.d/rcS") ? ["::sysinit:/etc/init.d/rcS"] : []),
            `${tty}::respawn:${bb} getty -L 115200 ${tty} vt100`,
            `::ctrlaltdel:${bb} reboot`,
            `::shutdown:${bb} umount -a -r`,
            "",
          ].join("\n"),
          mode: 0o644,
        });
      } else if (!facts.inittab.split("\n").some((l) => l.startsWith(`${tty}:`))) {
        ops.push({
          op: "append",
          path: "/etc/inittab",
          content: `${tty}::respawn:${bb} getty -L 115200 ${tty} vt100\n`,
        });
      }
      break;
    }
    case "sysvinit":
      // Debian's inittab carries the serial getty commented out (`#T0:23:respawn:/sbin/getty -L ttyS0
      // 9600 vt100`, sysvinit-core's /usr/share/sysvinit/inittab): only an active line counts.
      if (
        !facts.inittab
          ?.split("\n")
          .some((l) => !l.trimStart().startsWith("#") && (l.includes(` ${tty} `) || l.endsWith(tty)))
      ) {
        ops.push({
          op: "append",
          path: "/etc/inittab",
          content: `T0:2345:respawn:/sbin/getty -L ${tty} 115200 vt100\n`,
        });
      }
      break;
    case "other":
      break;
  }
  if (opts.passwordlessRoot) ops.push(passwordlessRootOp(facts.shadow));
  if (opts.sshPublicKey !== undefined) {
    const key = opts.sshPublicKey.trim();
    if (!/^(ssh-|ecdsa-|sk-)\S+ \S+/.test(key)) {
      throw new KilnError("ROOTFS_BAD_SSH_KEY", `SSH key "${key.slice(0, 40)}" is not a public key line`, {
        hint: "give the .pub file (e.g. ~/.ssh/id_ed25519.pub), not the private key",
      });
    }
    ops.push({ op: "mkdir", path: "/root/.ssh", mode: 0o700 });
    ops.push({ op: "append", path: "/root/.ssh/authorized_keys", content: `${key}\n` });
  }
  return ops;
}

/** /etc/shadow with root's password field emptied (shadow(5): field 2; empty means no password). */
function passwordlessRootOp(shadow: string | undefined): GuestFileOp {
  const lines = shadow?.split("\n") ?? [];
  const i = lines.findIndex((l) => l.startsWith("root:"));
  if (i === -1) {
    throw new KilnError(
      "ROOTFS_NO_SHADOW",
      shadow === undefined
        ? "a passwordless root needs /etc/shadow, which the root filesystem lacks"
        : "a passwordless root needs a root line in /etc/shadow, which has none",
      { hint: "use a distribution root (debian:SUITE, an OCI image), or leave out the passwordless root" },
    );
  }
  const fields = lines[i]!.split(":");
  fields[1] = "";
  lines[i] = fields.join(":");
  return { op: "write", path: "/etc/shadow", content: lines.join("\n"), mode: 0o640 };
}

/** The guest path `guestPath` resolves to inside the tree, if it exists. */
async function resolveInGuest(root: string, guestPath: string): Promise<string | undefined> {
  const r = await resolveInScope(root, guestPath);
  return r.exists ? r.guest : undefined;
}

/** Look at a tree: which init system `/sbin/init` is, where busybox is, which files exist. */
export async function detectGuest(
  root: string,
  initOverride?: string,
  readShadow = false,
): Promise<GuestFacts> {
  const exists = new Set<string>();
  for (const p of ["/etc/hosts", "/etc/fstab", "/etc/init.d/rcS", "/sbin/openrc", "/etc/init.d/agetty"]) {
    if ((await resolveInScope(root, p, false)).exists) exists.add(p);
  }
  const init = await resolveInGuest(root, initOverride ?? "/sbin/init");
  const tab = await resolveInScope(root, "/etc/inittab");
  const inittab = tab.exists ? await readFile(tab.host, "utf8").catch(() => undefined) : undefined;
  const shadowAt = readShadow ? await resolveInScope(root, "/etc/shadow") : undefined;
  const shadow = shadowAt?.exists ? await readFile(shadowAt.host, "utf8").catch(() => undefined) : undefined;
  let busybox: string | undefined;
  for (const p of ["/bin/busybox", "/usr/bin/busybox", "/sbin/busybox"]) {
    if (await resolveInGuest(root, p)) {
      busybox = p;
      break;
    }
  }
  const base = init ? posix.basename(init) : "";
  let initSystem: InitSystem = "other";
  if (base === "systemd") initSystem = "systemd";
  else if (base.startsWith("busybox")) initSystem = exists.has("/sbin/openrc") ? "openrc" : "busybox";
  else if (base === "openrc-init") initSystem = "openrc";
  else if (base === "init" && inittab !== undefined) initSystem = "sysvinit";
  if (base.startsWith("busybox")) busybox = init;
  return { initSystem, busybox, inittab, exists, ...(shadow !== undefined ? { shadow } : {}) };
}

/**
 * Validate the options against the tree at `root` (read only) and plan the
 * set-up: the init system found and the file operations, `/sbin/init` first
 * when `--init` names another path.
 */
export async function guestSetupOps(
  root: string,
  opts: GuestSetupOptions,
  reporter?: Reporter,
): Promise<{ initSystem: InitSystem; ops: GuestFileOp[] }> {
  if (opts.init !== undefined) {
    if (!opts.init.startsWith("/")) {
      throw new KilnError("ROOTFS_BAD_INIT", `init "${opts.init}" must be an absolute path inside the guest`);
    }
    if (!(await resolveInGuest(root, opts.init))) {
      throw new KilnError("ROOTFS_BAD_INIT", `init "${opts.init}" does not exist in the root filesystem`, {
        hint: "give the guest path of an executable present in the source (e.g. /bin/busybox)",
      });
    }
  }
  const facts = await detectGuest(root, opts.init, opts.passwordlessRoot === true);
  if (facts.initSystem === "other") {
    reporter?.warn(
      "no known init system (systemd, OpenRC, BusyBox, sysvinit) in the root filesystem; no getty set up",
    );
  }
  const ops = planGuestSetup(facts, opts);
  if (opts.init !== undefined && opts.init !== "/sbin/init")
    ops.unshift({ op: "symlink", path: "/sbin/init", target: opts.init });
  return { initSystem: facts.initSystem, ops };
}

/**
 * Set up the tree at `root` as a bootable Linux guest (see the module doc).
 * Returns the init system found and the operations performed.
 */
export async function applyGuestSetup(
  root: string,
  opts: GuestSetupOptions,
  reporter?: Reporter,
): Promise<{ initSystem: InitSystem; ops: GuestFileOp[] }> {
  const { initSystem, ops } = await guestSetupOps(root, opts, reporter);
  for (const op of ops) {
    // Resolve in the guest's scope: a symlink in the tree (`/etc -> /host/dir`, merged-usr `/sbin -> usr/sbin`)
    // is followed as the guest would follow it, never out to the host. The last component of a file or
    // symlink op is replaced rather than followed.
    const parent = await resolveInScope(root, posix.dirname(op.path));
    const p =
      op.op === "mkdir"
        ? (await resolveInScope(root, op.path)).host
        : join(parent.host, posix.basename(op.path));
    await mkdir(op.op === "mkdir" ? p : parent.host, { recursive: true });
    if (op.op !== "mkdir" && (await lstat(p).catch(() => undefined))?.isSymbolicLink()) await rm(p);
    if (op.op === "mkdir") {
      await chmod(p, op.mode); // mkdir's mode is masked by the umask
    } else if (op.op === "write") {
      await writeFile(p, op.content);
      await chmod(p, op.mode);
    } else if (op.op === "append") await appendFile(p, op.content, { mode: 0o600 });
    else {
      await rm(p, { force: true });
      await symlink(op.target, p);
    }
  }
  return { initSystem, ops };
}
