/**
 * Running machines: the VMM driver contract, QEMU planning and driver, the
 * instance store, launching and stopping. (The Firecracker driver lives in
 * `firecracker/`.)
 */
export * from "./console.js";
export * from "./describe.js";
export * from "./driver.js";
export * from "./drivers.js";
export * from "./firecracker/index.js";
export * from "./foreground.js";
export * from "./kernel-detect.js";
export * from "./launch.js";
export * from "./lifecycle.js";
export * from "./network.js";
export * from "./ports.js";
export * from "./qemu/accel.js";
export * from "./qemu/argv.js";
export * from "./qemu/driver.js";
export * from "./qemu/qmp.js";
export * from "./run-plan-types.js";
export * from "./spec.js";
export * from "./store.js";
export * from "./supervise.js";
export * from "./vsock.js";
