/** Shared foundations (subpath `kiln-vm/core`): errors, child processes, atomic files, output, paths, units. */
export * from "./errors.js";
export * from "./exec.js";
export * from "./fs.js";
export * from "./log.js";
export * from "./output.js";
export * from "./paths.js";
export * from "./units.js";
