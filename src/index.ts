/**
 * Kiln's library API: the typed functions behind each CLI command.
 * Domains: `kconfig` (the Kconfig engine), `kernel` (Linux guest kernels), `kraftfile` (project files),
 * `image` (root filesystems), `machine` (VMs), `unikraft` (builds), `pkg` (OCI packages), with `core`
 * (and its registry client) shared underneath.
 */
export * from "./core/errors.js";
export * from "./core/exec.js";
export * from "./core/fs.js";
export * from "./core/output.js";
export * from "./core/paths.js";
export * from "./core/registry/index.js";
export * from "./core/units.js";
export * from "./image/index.js";
export * from "./kconfig/index.js";
export * from "./kernel/index.js";
export * from "./kraftfile/index.js";
export * from "./machine/index.js";
export * from "./pkg/index.js";
export * from "./unikraft/index.js";
