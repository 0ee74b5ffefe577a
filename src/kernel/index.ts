/**
 * Linux guest kernels: building them from source with Kiln's microVM
 * baseline or a given configuration (cached by content), and checking a
 * configuration against what a machine needs.
 */
export * from "./baseline.js";
export * from "./build.js";
export * from "./check.js";
export * from "./configure.js";
export * from "./fragment.js";
export * from "./make.js";
export * from "./source.js";
export * from "./types.js";
export { explainFromScan, explainOff, scanKconfig } from "./why.js";
