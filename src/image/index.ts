/** Root filesystems: CPIO (Kiln's own writer and reader), ext4/EROFS, sources. */
export * from "./build.js";
export * from "./cpio/index.js";
export { type MakeErofsOptions, makeErofs, planErofsArgv } from "./erofs.js";
export {
  checkUuid,
  type Ext4Result,
  estimateExt4Size,
  ext4InodeCount,
  type MakeExt4Options,
  makeExt4,
  planExt4Fixups,
  type TreeStats,
  uuidFromDigest,
} from "./ext4.js";
export * from "./guest-setup.js";
export {
  type ApplyTarOptions,
  applyTarFile,
  finishDirs,
  normaliseEntryName,
  type PendingDirs,
  pendingDirs,
} from "./layers.js";
export { type ImageFormat, imageFormatOf, sniffImageFormat } from "./sniff.js";
export {
  buildDebianTarball,
  chooseMmdebstrapMode,
  type DebianOptions,
  planMmdebstrapArgv,
} from "./sources/debian.js";
export {
  applyLayers,
  dockerArchiveLayers,
  extractArchive,
  ociLayoutLayers,
} from "./sources/image-archive.js";
export * from "./sources/oci-manifest.js";
export {
  type ImageReference,
  type PulledImage,
  type PullOptions,
  parseBearerChallenge,
  parseImageReference,
  pullImage,
  registryBaseUrl,
} from "./sources/registry.js";
export { detectSource, type ParsedSource, parseSourceSpec, type SourceSpec } from "./sources/spec.js";
export * from "./tree.js";
