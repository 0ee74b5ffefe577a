/**
 * Running machines: the VMM driver contract, QEMU planning and driver, the
 * instance store. (The Firecracker driver lives in `firecracker/`.)
 */
export * from "./driver.js";
export * from "./supervise.js";
