/**
 * Unix socket paths of any length. `sun_path` holds 108 bytes with its NUL
 * (unix(7)), and a machine's directory under a deep KILN_HOME passes that
 * (issue 9: QEMU then only said it could not bind). Two ways round it, both
 * resolved by the kernel, so the socket stays where the machine's other files
 * are: the process that binds runs in the socket's directory and names it
 * relatively; a process that connects goes through its own open descriptor of
 * the directory, `/proc/self/fd/N/NAME`.
 */
import { closeSync, openSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { basename, dirname } from "node:path";

/** The longest `sun_path` without its NUL. */
export const SUN_PATH_MAX_BYTES = 107;

/** Whether `path` can be bound or connected to as written. */
export function fitsSunPath(path: string): boolean {
  return Buffer.byteLength(path) <= SUN_PATH_MAX_BYTES;
}

/**
 * How a process whose working directory is the socket's directory names it:
 * the absolute path when it fits (clearer in a shown command line), else the
 * file name alone.
 */
export function socketPathFrom(cwd: string, path: string): string {
  return fitsSunPath(path) || dirname(path) !== cwd ? path : basename(path);
}

/** `net.createConnection` to a Unix socket at a path of any length. */
export function connectUnix(path: string): Socket {
  if (fitsSunPath(path)) return createConnection(path);
  let fd: number | undefined;
  try {
    fd = openSync(dirname(path), "r");
  } catch {
    // the directory is not there: let connect report ENOENT on the full path's name
    return createConnection(path);
  }
  const sock = createConnection(`/proc/self/fd/${fd}/${basename(path)}`);
  // connect(2) resolved the path when it returned: the descriptor is no longer needed
  const close = () => {
    if (fd === undefined) return;
    closeSync(fd);
    fd = undefined;
  };
  sock.once("connect", close);
  sock.once("error", close);
  sock.once("close", close);
  return sock;
}
