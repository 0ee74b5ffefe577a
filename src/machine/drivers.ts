/**
 * The VMM drivers Kiln knows, by `--vmm` name. The Firecracker driver
 * registers itself here (see `firecracker/`).
 */
import { KilnError } from "../core/errors.js";
import type { GuestExit, VmmDriver, VmmExitContext } from "./driver.js";
import { firecrackerDriver } from "./firecracker/driver.js";
import { qemuDriver, qemuGuestExit } from "./qemu/driver.js";

const registry = new Map<string, () => VmmDriver>([
  ["qemu", () => qemuDriver()],
  ["firecracker", () => firecrackerDriver],
]);

/** Register a driver factory under `name` (used by `firecracker/`). */
export function registerDriver(name: string, factory: () => VmmDriver): void {
  registry.set(name, factory);
}

/** The driver for `--vmm NAME`; throws `VMM_UNKNOWN`. */
export function getDriver(name: string): VmmDriver {
  const f = registry.get(name);
  if (!f) {
    throw new KilnError("VMM_UNKNOWN", `unknown VMM "${name}"`, {
      hint: `choose one of: ${[...registry.keys()].join(", ")}`,
    });
  }
  return f();
}

/** Interpret a recorded exit with the machine's own driver (store reconciliation). */
export function interpretExit(
  vmm: string,
  status: { exitCode: number | null; signal: string | null },
  consoleTail: string,
  context?: VmmExitContext,
): GuestExit {
  const f = registry.get(vmm);
  return f ? f().guestExit(status, consoleTail, context) : qemuGuestExit(status, consoleTail, context);
}
