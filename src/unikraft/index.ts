/** Building Unikraft unikernels: sources, configuration, make, artifacts. */

export { platformShortName, type TargetArtifacts, targetArtifacts } from "./artifacts.js";
export {
  type BuildOptions,
  buildProject,
  crossCompileFor,
  type TargetBuildResult,
  targetConfigFile,
} from "./build.js";
export { type CleanOptions, type CleanResult, cleanProject } from "./clean.js";
export {
  architectureKconfig,
  type CoreVersion,
  defconfigText,
  envKconfig,
  type KconfigAdjustment,
  type KconfigPlan,
  libraryEnableSymbol,
  type MissingOption,
  missingOptions,
  parseDotConfig,
  parseVersionMk,
  planKconfig,
  platformKconfig,
} from "./config.js";
export {
  changedParts,
  FINGERPRINT_ENV,
  FINGERPRINT_ENV_PREFIXES,
  type Fingerprint,
  type FingerprintSpec,
  fingerprintPath,
  readFingerprint,
  relevantEnv,
} from "./fingerprint.js";
export {
  countSteps,
  crossToolchainFor,
  firstErrors,
  hostArchitecture,
  type MakeEvent,
  type MakeInvocation,
  parseMakeLine,
  planMake,
} from "./make.js";
export { type BuildLog, openBuildLog, runMake } from "./run-make.js";
export { describeTargets, matchTargets, selectTargets, type TargetFilter } from "./select.js";
export {
  type ProjectShareResult,
  SHARE_MANIFEST,
  type ShareDir,
  type ShareResult,
  shareBuildDirs,
  shareProjectBuilds,
  sharingEnabled,
  type UnshareResult,
  unshareBuildDir,
} from "./share.js";
export { componentDir, type ProjectSourceDirs, projectSourceDirs } from "./source-dirs.js";
export * from "./sources/index.js";
export { type TreeDigest, treeDigest } from "./tree-state.js";
