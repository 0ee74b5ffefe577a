/**
 * Kraftfiles: finding, parsing, validating and normalizing Unikraft project
 * files into a typed {@link Project}.
 */
export { countSummary, formatDiagnostic } from "./diagnostics.js";
export {
  failureDocument,
  findKraftfile,
  invalidProjectError,
  KRAFTFILE_NAMES,
  loadProject,
  type ReadProjectResult,
  readProject,
} from "./load.js";
export { type ParseHost, type ParseResult, parseKraftfile, SPEC_VERSIONS, TOP_LEVEL_KEYS } from "./parse.js";
export { DEFAULT_UNIKRAFT_URL, DEFAULT_VERSION, defaultLibraryUrl } from "./sources.js";
export { describeProject } from "./summary.js";
export { platformFileName } from "./targets.js";
// `Platform` and `RootfsFormat` are renamed at the library entry because
// `image/` exports an OCI `Platform` and its own `RootfsFormat`.
export type {
  Architecture,
  Component,
  ComponentSource,
  Diagnostic,
  InitrdInput,
  KconfigMap,
  Platform as TargetPlatform,
  Project,
  Rootfs,
  RootfsFormat as ProjectRootfsFormat,
  Severity,
  SpecVersion,
  Target,
  TargetInitrd,
  Volume,
} from "./types.js";
