/**
 * The normalized, typed form of a Kraftfile: what every other domain
 * (`unikraft/` builds, `machine/` runs, `image/` rootfs packing) consumes.
 * Shapes follow KraftKit's Kraftfile v0.5/v0.6 schemas and the Unikraft docs
 * (KraftKit's Kraftfile reference, v0.6); every short form
 * is expanded here so consumers never re-interpret user syntax.
 */

/** Kraftfile specification versions Kiln reads. */
export type SpecVersion = "0.5" | "0.6" | "0.7";

/** Canonical platform names (`fc` is an alias of `firecracker`, `kvm` of `qemu`). */
export type Platform = "qemu" | "firecracker" | "xen" | "linuxu";

/** Canonical architecture names (`amd64` → `x86_64`, `aarch64` → `arm64`). */
export type Architecture = "x86_64" | "arm64" | "arm";

/**
 * Kconfig assignments, `CONFIG_NAME` → the value as a `.config` line writes
 * it after `=`: `y`, `n`, `m`, numbers (`42`, `0x400000000`) as written, and
 * strings as Kconfig string literals with their double quotes (`"initrd"`).
 * A string written without quotes (YAML `CONFIG_X: embedded` or
 * `- CONFIG_X=embedded`) is quoted by the parser, since Kconfig ignores an
 * unquoted value for a string symbol. Insertion order is kept.
 */
export type KconfigMap = Record<string, string>;

/** Where a component's source comes from, resolved from the user's short forms. */
export type ComponentSource =
  /** A git repository; `version` is `stable`, `staging`, a tag, branch or commit. */
  | { type: "git"; url: string; version: string }
  /** A local directory used in place (absolute path). */
  | { type: "directory"; path: string }
  /** A source archive: an `http(s)://` URL or an absolute path. */
  | { type: "tarball"; location: string };

/** The Unikraft core or a library. */
export interface Component {
  /** `unikraft` for the core, the library name otherwise. */
  name: string;
  source: ComponentSource;
  kconfig: KconfigMap;
}

/** A build target: one platform/architecture pair. */
export interface Target {
  /** KraftKit's naming: `<project>_<plat>-<arch>` unless given. */
  name: string;
  platform: Platform;
  architecture: Architecture;
  kconfig: KconfigMap;
  /**
   * This target's own application arguments, from spec v0.5's target
   * `command` (KraftKit's `TargetConfig.Command`, "the command-line
   * arguments set for this target"). When present it replaces the
   * project's `cmd` for this target; absent, the project's `cmd` applies.
   */
  cmd?: string[];
  /** The initramfs spec v0.5 builds for this target (its target `initrd`). */
  initrd?: TargetInitrd;
}

/** One `initrd.input` entry: KraftKit's `host:archive` pair. */
export interface InitrdInput {
  /** Host path (file or directory), absolute. */
  source: string;
  /** Where it goes inside the archive (absolute; default `/`). */
  destination: string;
}

/**
 * A target's initramfs as spec v0.5 writes it (`initrd: {input, output,
 * format, compress}`, or KraftKit's short form `DIR[:OUTPUT]`).
 */
export interface TargetInitrd {
  /** What to pack, in the order written. */
  inputs: InitrdInput[];
  /** Absolute path of the archive to write; absent when the build chooses. */
  output?: string;
  /** Always `cpio` (KraftKit's `newc`, the only CPIO format it writes). */
  format: "cpio";
  /** Whether the archive is compressed. */
  compress: boolean;
}

export type RootfsFormat = "cpio" | "erofs";

export interface Rootfs {
  /** Absolute path (directory, archive, Dockerfile) or an image reference as written. */
  source: string;
  format: RootfsFormat;
  /** Optional `type` as KraftKit defines it (e.g. `initrd`). */
  type?: string;
}

export interface Volume {
  /** Host path, resolved against the Kraftfile's directory. */
  source: string;
  /** Guest mount point. */
  destination: string;
  readonly: boolean;
  /** Volume driver, e.g. `9pfs`; absent when not given. */
  driver?: string;
}

export interface Project {
  /** Absolute path of the Kraftfile read. */
  file: string;
  /** Absolute path of its directory: the project's working directory. */
  dir: string;
  specification: SpecVersion;
  /** `name`, or the directory's base name. */
  name: string;
  /** Absolute build output directory (`outdir`, default `<dir>/.unikraft/build`). */
  outdir: string;
  /** The Unikraft core, when the project builds one. */
  unikraft?: Component;
  /** A template application this project derives from. */
  template?: Component;
  /** A prebuilt runtime image reference (e.g. `base:latest`); excludes `unikraft`/`template`. */
  runtime?: string;
  rootfs?: Rootfs;
  /** Default application arguments. */
  cmd: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  volumes: Volume[];
  /** At least one target; names are unique. */
  targets: Target[];
  /** Libraries in the order written. */
  libraries: Component[];
  /** `x-*` extension keys, kept verbatim. */
  extensions: Record<string, unknown>;
}

export type Severity = "error" | "warning";

/** One problem found in a Kraftfile, with its position (1-based). */
export interface Diagnostic {
  severity: Severity;
  /** Stable code, e.g. `unknown-key`, `missing-required`, `invalid-kconfig`. */
  code: string;
  message: string;
  file: string;
  line: number;
  col: number;
  /** The offending source line, for the caret display. */
  sourceLine?: string;
  hint?: string;
}
