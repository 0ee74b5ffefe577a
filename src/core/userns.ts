/**
 * Running a tool as "root" in an unprivileged user namespace
 * (`unshare --map-root-user`, util-linux): inside, the caller's own uid and
 * primary gid read as 0 and every other id as the kernel's overflow id
 * (`/proc/sys/kernel/overflowuid`, normally 65534), see user_namespaces(7).
 * Tools that copy host owners (`mkfs.ext4 -d`) then record the caller's
 * files as root's without any fix-up pass.
 */
import { readFileSync } from "node:fs";
import { exec, which } from "./exec.js";

/** How host ids look from inside `unshare --map-root-user`. */
export interface UserNamespaceView {
  /** argv prefix that runs a command in the namespace. */
  prefix: string[];
  /** The caller's uid and gid (they read as 0 inside). */
  uid: number;
  gid: number;
  /** What every other uid / gid reads as inside. */
  overflowUid: number;
  overflowGid: number;
}

function overflow(kind: "uid" | "gid"): number {
  try {
    return Number(readFileSync(`/proc/sys/kernel/overflow${kind}`, "utf8").trim()) || 65534;
  } catch {
    return 65534;
  }
}

let probed: Promise<UserNamespaceView | undefined> | undefined;

/**
 * The view from a user namespace, when Kiln runs unprivileged and the host
 * allows unprivileged user namespaces (probed once per process with
 * `unshare --map-root-user true`); undefined for root (who needs none) or
 * when `unshare` is missing or refused (e.g. `kernel.unprivileged_userns_clone=0`)
 * or `KILN_USERNS=0` asks for the fix-up pass instead.
 */
export function userNamespaceView(): Promise<UserNamespaceView | undefined> {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  if (uid === undefined || gid === undefined || uid === 0 || process.env.KILN_USERNS === "0")
    return Promise.resolve(undefined);
  probed ??= (async () => {
    const unshare = which("unshare");
    if (!unshare) return undefined;
    const prefix = [unshare, "--map-root-user"];
    const r = await exec([...prefix, "true"], { allowFailure: true }).catch(() => undefined);
    if (r?.exitCode !== 0) return undefined;
    return { prefix, uid, gid, overflowUid: overflow("uid"), overflowGid: overflow("gid") };
  })();
  return probed;
}

/** The owner a host file shows inside the namespace (pure). */
export function ownerInNamespace(
  view: UserNamespaceView,
  owner: { uid: number; gid: number },
): { uid: number; gid: number } {
  return {
    uid: owner.uid === view.uid ? 0 : view.overflowUid,
    gid: owner.gid === view.gid ? 0 : view.overflowGid,
  };
}
