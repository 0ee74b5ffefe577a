/**
 * Kiln's package root: the façade for the common jobs (`boot`, `build`,
 * `pack`, `buildRootfs`), the Kraftfile and Unikraft APIs the README
 * documents, errors and reporters. Everything else is behind subpaths:
 * `kiln-vm/core`, `kiln-vm/image`, `kiln-vm/machine`, `kiln-vm/kraftfile`,
 * `kiln-vm/unikraft`. `test/exports.test.ts` keeps this surface deliberate
 * (a snapshot of the names, as isomorphic-git does).
 */
export {
  type BootOptions,
  type BootResult,
  boot,
  build,
  buildRootfs,
  pack,
} from "./api.js";
export {
  ExitCode,
  isKilnError,
  KilnError,
  type KilnErrorOptions,
  type SourceLocation,
} from "./core/errors.js";
export {
  collectingReporter,
  type Progress,
  type Reporter,
  silentReporter,
  stderrReporter,
} from "./core/output.js";
export type { BuildRootfsOptions, BuildRootfsResult, RootfsFormat } from "./image/build.js";
export type { PackCpioOptions, PackCpioResult } from "./image/cpio/pack.js";
export * from "./kraftfile/index.js";
export * from "./unikraft/index.js";
