/**
 * Unikraft configuration, pure: which Kconfig options a target is built with,
 * the defconfig text handed to Unikraft's `make defconfig`, and which of the
 * requested options did not survive into the resulting `.config`.
 *
 * The merge order copies KraftKit (unikraft/app/application.go,
 * `ApplicationConfig.DefConfig`): the core's `kconfig`, then each library's
 * in the order written (its enable symbol first), then the target's (its architecture and platform
 * symbols first, then its own `kconfig`), then extras (the project's `env`).
 * A later assignment of the same symbol wins.
 */
import type { Architecture, KconfigMap, Platform, Project, Target } from "../kraftfile/types.js";

/** A Unikraft core release, as read from its `version.mk`. */
export interface CoreVersion {
  major: number;
  minor: number;
  patch: number;
}

/** Kconfig symbols selecting an architecture (unikraft/arch/Config.uk). */
export function architectureKconfig(arch: Architecture): KconfigMap {
  switch (arch) {
    case "x86_64":
      return { CONFIG_ARCH_X86_64: "y" };
    case "arm64":
      return { CONFIG_ARCH_ARM_64: "y" };
    case "arm":
      return { CONFIG_ARCH_ARM_32: "y" };
  }
}

/**
 * Kconfig symbols selecting a platform. QEMU and Firecracker are both
 * Unikraft's KVM platform, told apart by the VMM choice (plat/kvm/Config.uk:
 * `KVM_VMM_QEMU`, `KVM_VMM_FIRECRACKER`), which also names the image
 * (`_qemu-` or `_fc-`).
 */
export function platformKconfig(platform: Platform): KconfigMap {
  switch (platform) {
    case "qemu":
      return { CONFIG_PLAT_KVM: "y", CONFIG_KVM_VMM_QEMU: "y" };
    case "firecracker":
      return { CONFIG_PLAT_KVM: "y", CONFIG_KVM_VMM_FIRECRACKER: "y" };
    case "xen":
      return { CONFIG_PLAT_XEN: "y" };
    case "linuxu":
      return { CONFIG_PLAT_LINUXU: "y" };
  }
}

/**
 * The symbol that turns a library on: listing a library in the Kraftfile
 * enables it, as KraftKit does (unikraft/lib/library.go `KConfig`:
 * `CONFIG_LIB<NAME>=y`, or `CONFIG_<NAME>` when the name already starts with
 * `lib`).
 */
export function libraryEnableSymbol(name: string): string {
  const upper = name.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
  return upper.startsWith("LIB") ? `CONFIG_${upper}` : `CONFIG_LIB${upper}`;
}

/**
 * The project's `env` as Unikraft's posix-environ options
 * (lib/posix-environ/Config.uk: `LIBPOSIX_ENVIRON_ENVP0` … `ENVP15`, each a
 * `"NAME=value"` string compiled into the image's initial environment).
 */
export function envKconfig(env: Record<string, string>): KconfigMap {
  const out: KconfigMap = {};
  const entries = Object.entries(env);
  if (entries.length === 0) return out;
  out.CONFIG_LIBPOSIX_ENVIRON = "y";
  entries.forEach(([k, v], i) => {
    out[`CONFIG_LIBPOSIX_ENVIRON_ENVP${i}`] = kconfigString(`${k}=${v}`);
  });
  return out;
}

/** A Kconfig string literal: quoted, with `\` and `"` escaped. */
export function kconfigString(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export interface KconfigPlanOptions {
  /** The core's release, when known: decides release-specific adjustments. */
  coreVersion?: CoreVersion;
}

/** One option Kiln added on its own, with the reason (reported to the user). */
export interface KconfigAdjustment {
  name: string;
  value: string;
  reason: string;
}

/** Where a planned option's final value comes from. */
export type KconfigOrigin =
  | { kind: "core" }
  | { kind: "library"; name: string }
  | { kind: "target"; name: string }
  /** Implied by the target's architecture or platform (not written in the Kraftfile's kconfig). */
  | { kind: "architecture" | "platform"; name: string }
  /** Listing a library enables it. */
  | { kind: "library-enable"; name: string }
  /** The project's `env`. */
  | { kind: "env" }
  /** An adjustment Kiln made (see {@link KconfigAdjustment}). */
  | { kind: "kiln" };

export interface KconfigPlan {
  /** Every option requested, in the order written to the defconfig. */
  options: KconfigMap;
  /** Options Kiln added itself (not from the Kraftfile). */
  adjustments: KconfigAdjustment[];
  /** For each option, where its (last) value comes from. */
  origins: Record<string, KconfigOrigin>;
}

/** A short label for an origin: `core`, `library musl`, `target hello_qemu-x86_64`, … */
export function originLabel(o: KconfigOrigin): string {
  switch (o.kind) {
    case "core":
    case "env":
    case "kiln":
      return o.kind;
    case "library-enable":
      return `library ${o.name} (listed)`;
    default:
      return `${o.kind} ${o.name}`;
  }
}

/**
 * The options a target is built with, merged in KraftKit's order (see the
 * module comment).
 *
 * One adjustment: Unikraft 0.17 turns on `LIBUKRANDOM` for KVM guests (plat/kvm
 * `imply LIBUKRANDOM if HAVE_RANDOM`), whose boot-time seeding needs a
 * hardware RNG instruction that QEMU's TCG does not offer, so the guest stops
 * before `main`. Kiln runs every QEMU guest under TCG, so for `qemu` targets
 * on a ≥ 0.17 core it adds `# CONFIG_LIBUKRANDOM is not set` unless the
 * Kraftfile sets `CONFIG_LIBUKRANDOM` itself (then the user's choice stands).
 * Firecracker targets always run under KVM and are left alone.
 */
export function planKconfig(project: Project, target: Target, opts: KconfigPlanOptions = {}): KconfigPlan {
  const options: KconfigMap = {};
  const origins: Record<string, KconfigOrigin> = {};
  const put = (m: KconfigMap, origin: KconfigOrigin) => {
    for (const [k, v] of Object.entries(m)) {
      // Re-insert so the defconfig lists a symbol where its final value comes from.
      delete options[k];
      options[k] = v;
      origins[k] = origin;
    }
  };
  if (project.unikraft) put(project.unikraft.kconfig, { kind: "core" });
  for (const lib of project.libraries) {
    put({ [libraryEnableSymbol(lib.name)]: "y" }, { kind: "library-enable", name: lib.name });
    put(lib.kconfig, { kind: "library", name: lib.name });
  }
  put(architectureKconfig(target.architecture), { kind: "architecture", name: target.architecture });
  put(platformKconfig(target.platform), { kind: "platform", name: target.platform });
  put(target.kconfig, { kind: "target", name: target.name });
  put(envKconfig(project.env), { kind: "env" });

  const adjustments: KconfigAdjustment[] = [];
  const v = opts.coreVersion;
  const atLeast017 = v !== undefined && (v.major > 0 || v.minor >= 17);
  if (target.platform === "qemu" && atLeast017 && !("CONFIG_LIBUKRANDOM" in options)) {
    options.CONFIG_LIBUKRANDOM = "n";
    origins.CONFIG_LIBUKRANDOM = { kind: "kiln" };
    adjustments.push({
      name: "CONFIG_LIBUKRANDOM",
      value: "n",
      reason: "Unikraft ≥ 0.17 seeds ukrandom from a hardware RNG that QEMU's TCG lacks",
    });
  }
  return { options, adjustments, origins };
}

/**
 * The defconfig text for `options`: `CONFIG_X=value` lines, and Kconfig's
 * `# CONFIG_X is not set` for `n` (the form `make defconfig` reads as "off").
 */
export function defconfigText(options: KconfigMap): string {
  const lines = Object.entries(options).map(([k, v]) => (v === "n" ? `# ${k} is not set` : `${k}=${v}`));
  return `${lines.join("\n")}\n`;
}

/** Parse a `.config` (or defconfig): symbol → value, `n` for "is not set". */
export function parseDotConfig(text: string): KconfigMap {
  const out: KconfigMap = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const off = /^#\s*(CONFIG_\w+) is not set$/.exec(line);
    if (off) {
      out[off[1]!] = "n";
      continue;
    }
    const on = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (on) out[on[1]!] = on[2]!;
  }
  return out;
}

/** A requested option whose value differs in the generated `.config`. */
export interface MissingOption {
  name: string;
  requested: string;
  /** The value in `.config`; undefined when the symbol is absent (unknown or hidden). */
  actual: string | undefined;
  /** Why it did not survive, when known (kiln build: from the Kconfig engine's `why`). */
  reason?: string;
}

/**
 * Each requested option that did not survive into `.config`: an unknown
 * symbol (absent), or one whose dependencies were not met (absent or a
 * different value). Asking for `n` is satisfied by an absent symbol.
 */
export function missingOptions(requested: KconfigMap, dotConfigText: string): MissingOption[] {
  const actual = parseDotConfig(dotConfigText);
  const out: MissingOption[] = [];
  for (const [name, want] of Object.entries(requested)) {
    const got = actual[name];
    if (want === "n") {
      if (got !== undefined && got !== "n") out.push({ name, requested: want, actual: got });
      continue;
    }
    if (got === undefined || normalizeValue(got) !== normalizeValue(want)) {
      out.push({ name, requested: want, actual: got });
    }
  }
  return out;
}

/**
 * A warning when the configuration leaves stdin empty although the Kraftfile
 * did not ask for it: core 0.17's posix-tty makes `LIBPOSIX_TTY_STDIN_NULL`
 * (reads return end of file at once) the first choice of "stdin:", so an
 * interactive application (a shell, sqlite's prompt) exits on start, where
 * 0.16 read the serial console. Undefined when stdin is the console or the
 * Kraftfile chose.
 */
export function stdinWarning(requested: KconfigMap, dotConfigText: string): string | undefined {
  const actual = parseDotConfig(dotConfigText);
  if (actual.CONFIG_LIBPOSIX_TTY_STDIN_NULL !== "y") return undefined;
  if (Object.keys(requested).some((k) => k.startsWith("CONFIG_LIBPOSIX_TTY_STDIN_"))) return undefined;
  return (
    "stdin is empty in this image (CONFIG_LIBPOSIX_TTY_STDIN_NULL=y, the core's default): an application " +
    "reading its console (a shell, sqlite's prompt) gets end of file at once; for console input set " +
    "CONFIG_LIBPOSIX_TTY_STDIN_SERIAL: 'y' in the Kraftfile's kconfig"
  );
}

/** Kconfig writes numbers and strings canonically; compare like it does. */
function normalizeValue(v: string): string {
  const t = v.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return t.toLowerCase();
  return t;
}

/** Parse Unikraft's `version.mk` (`UK_VERSION = 0`, `UK_SUBVERSION = 17`, …). */
export function parseVersionMk(text: string): CoreVersion | undefined {
  const get = (name: string) => {
    const m = new RegExp(`^${name}\\s*[:?]?=\\s*(\\d+)`, "m").exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const major = get("UK_VERSION");
  const minor = get("UK_SUBVERSION");
  if (major === undefined || minor === undefined) return undefined;
  return { major, minor, patch: get("UK_EXTRAVERSION") ?? 0 };
}
