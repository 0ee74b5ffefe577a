/**
 * A complete `MachineSpec` for planner and driver tests: a small x86_64 Linux
 * guest with no devices, overridden field by field.
 */
import type { MachineSpec } from "../../src/machine/driver.js";

/** The spec a test starts from; `over` replaces whole fields. */
export function machineSpec(over: Partial<MachineSpec> = {}): MachineSpec {
  return {
    name: "m1",
    kernel: "/k/vmlinuz",
    kernelKind: "bzimage",
    guest: "linux",
    architecture: "x86_64",
    memMiB: 256,
    cpus: 1,
    kernelArgs: [],
    appArgs: [],
    env: {},
    volumes: [],
    ports: [],
    network: "none",
    accel: "auto",
    ...over,
  };
}
