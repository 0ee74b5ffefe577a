/** Kiln's CPIO `newc` support: writer, reader, directory walker, device spec, packer. */

export { type CpioListing, formatLongListing, listCpio, modeString } from "./list.js";
export { type PackCpioOptions, type PackCpioResult, packCpio, sourceDateEpochFromEnv } from "./pack.js";
export { readCpio } from "./reader.js";
export { parseDeviceSpec, type SpecEntry } from "./spec.js";
export type { CpioEntry, CpioEntryType, CpioReadEntry } from "./types.js";
export { type WalkOptions, walkDirectory } from "./walk.js";
export { type WriteCpioOptions, type WriteCpioResult, writeCpio } from "./writer.js";
