/**
 * Unikraft sources: version resolution, git and tarball sources, the cache,
 * mirrors, `kiln.lock`, and archives that libraries download at build time.
 */
export {
  type ArchiveNeed,
  archiveAliases,
  archiveNeeds,
  type ChecksumAlgorithm,
  effectiveMirrors,
  expandVariables,
  makeVariables,
  parseArchiveNeeds,
  type SeededArchive,
  type SeedOptions,
  seedArchives,
} from "./archives.js";
export { archivesCacheDir, gitCachePath, sourcesCacheDir, tarballCachePath } from "./cache.js";
export type { MissingSource } from "./context.js";
export {
  componentDest,
  type FetchedComponent,
  type FetchedSources,
  type FetchOptions,
  fetchProjectSources,
} from "./fetch.js";
export {
  type ComponentRole,
  formatLockFile,
  LOCK_FILE_NAME,
  type LockedArchive,
  type LockedComponent,
  type LockFile,
  lockFilePath,
  parseLockFile,
  readLockFile,
} from "./lockfile.js";
export {
  loadMirrors,
  type Mirror,
  type MirrorInputs,
  parseConfigMirrors,
  parseMirror,
  repoName,
  splitMirrorList,
} from "./mirrors.js";
export {
  compareReleases,
  parseRefs,
  parseRelease,
  type Release,
  type RepoRefs,
  type Resolution,
  releaseTags,
  resolveVersion,
} from "./resolve.js";
