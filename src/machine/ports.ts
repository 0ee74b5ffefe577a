/**
 * Host ports for `-p`: checked before the VMM starts, because QEMU only
 * warns and carries on without the forward when a port is taken, which is
 * how a machine "runs" yet cannot be reached (kraftkit#1343). When the
 * holder is one of Kiln's own machines, the error names it.
 */
import { createSocket } from "node:dgram";
import { createServer } from "node:net";
import { KilnError } from "../core/errors.js";
import type { PortForward } from "./driver.js";
import type { MachineRecord } from "./store.js";

/** Whether `hostIp:hostPort/protocol` can be bound right now. */
export function portFree(p: PortForward): Promise<boolean> {
  return new Promise((resolve) => {
    if (p.protocol === "udp") {
      const s = createSocket("udp4");
      s.once("error", () => resolve(false));
      s.bind(p.hostPort, p.hostIp, () => s.close(() => resolve(true)));
      return;
    }
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ port: p.hostPort, host: p.hostIp, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** Throw `PORT_IN_USE` for the first port that cannot be bound, naming a Kiln machine holding it. */
export async function checkPorts(
  ports: readonly PortForward[],
  machines: () => Promise<MachineRecord[]>,
): Promise<void> {
  for (const p of ports) {
    if (await portFree(p)) continue;
    const holder = (await machines()).find(
      (m) =>
        (m.state === "running" || m.state === "starting") &&
        m.ports.some((q) => q.hostPort === p.hostPort && q.protocol === p.protocol),
    );
    const where = `${p.hostIp}:${p.hostPort}/${p.protocol}`;
    throw new KilnError(
      "PORT_IN_USE",
      holder
        ? `host port ${where} is held by Kiln machine "${holder.name}"`
        : `host port ${where} is already in use by another program`,
      {
        hint: holder
          ? `stop it (kiln stop ${holder.name}) or choose another host port: -p OTHER:${p.guestPort}`
          : `choose another host port: -p OTHER:${p.guestPort}`,
      },
    );
  }
}
