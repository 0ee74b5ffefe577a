/**
 * `targets:` — platform/architecture pairs with their aliases, names and
 * per-target kconfig.
 */
import { isMap, isScalar, isSeq, type Node, type Pair } from "yaml";
import { didYouMean } from "./diagnostics.js";
import { readInitrd } from "./initrd.js";
import type { Reader } from "./reader.js";
import { readCmd } from "./sections.js";
import type { Architecture, Platform, SpecVersion, Target, TargetInitrd } from "./types.js";

/** Platform names and aliases KraftKit accepts (`machine/platform` `PlatformsByName`, plus `linuxu`). */
export const PLATFORMS: Readonly<Record<string, Platform>> = {
  qemu: "qemu",
  kvm: "qemu",
  fc: "firecracker",
  firecracker: "firecracker",
  xen: "xen",
  linuxu: "linuxu",
};
/** Architecture names and common aliases (`amd64` → `x86_64`, `aarch64` → `arm64`). */
export const ARCHITECTURES: Readonly<Record<string, Architecture>> = {
  x86_64: "x86_64",
  amd64: "x86_64",
  arm64: "arm64",
  aarch64: "arm64",
  arm: "arm",
};

/**
 * Unikraft's short platform name, used in image names (`fc` for
 * Firecracker: plat/kvm's `$(CONFIG_UK_NAME)_fc-$(ARCH)`).
 */
export function platformFileName(p: Platform): string {
  return p === "firecracker" ? "fc" : p;
}

function platformOf(r: Reader, text: string, node: Node): Platform | undefined {
  const p = PLATFORMS[text];
  if (!p) {
    r.sink.error(
      "unknown-platform",
      node,
      `unknown platform \`${text}\`${didYouMean(text, Object.keys(PLATFORMS))}`,
      "known platforms: qemu (alias kvm), firecracker (alias fc), xen, linuxu",
    );
  }
  return p;
}

function architectureOf(r: Reader, text: string, node: Node): Architecture | undefined {
  const a = ARCHITECTURES[text];
  if (!a) {
    r.sink.error(
      "unknown-architecture",
      node,
      `unknown architecture \`${text}\`${didYouMean(text, Object.keys(ARCHITECTURES))}`,
      "known architectures: x86_64 (alias amd64), arm64 (alias aarch64), arm",
    );
  }
  return a;
}

/**
 * `targets:` — `plat/arch` strings or mappings. Unnamed targets are named
 * `<project>_<plat>-<arch>` with Unikraft's short platform name, which is
 * KraftKit's `KernelName` and the image file name Unikraft's build writes
 * (`helloworld_fc-x86_64`). Names must be unique.
 */
export function readTargets(
  r: Reader,
  node: Node | null,
  keyNode: Node,
  project: string,
  spec: SpecVersion,
): Target[] {
  if (!isSeq(node)) {
    r.sink.error(
      "invalid-type",
      r.isNull(node) ? keyNode : node,
      `\`targets\` must be a list of \`platform/architecture\` entries (e.g. \`- qemu/x86_64\`), got ${r.describe(node)}`,
    );
    return [];
  }
  if (node.items.length === 0) {
    r.sink.error(
      "missing-target",
      keyNode,
      "`targets` is empty: a project needs at least one target",
      "add e.g. `- qemu/x86_64`",
    );
  }
  const targets: Target[] = [];
  const names = new Map<string, number>();
  node.items.forEach((raw, i) => {
    const item = r.deref(raw);
    const t = readTarget(r, item ?? node, i + 1, project, spec);
    if (!t) return;
    const line = r.sink.position(item?.range?.[0] ?? 0).line;
    const first = names.get(t.name);
    if (first !== undefined) {
      r.sink.error(
        "duplicate-target",
        item,
        `target name \`${t.name}\` is used twice (first on line ${first}); target names must be unique`,
        "give the targets distinct `name`s",
      );
      return;
    }
    names.set(t.name, line);
    targets.push(t);
  });
  return targets;
}

/**
 * Target keys of spec v0.5's schema (`definitions.target`) that v0.6 moved to
 * the top level (`cmd`, `rootfs`). v0.6's schema no longer lists them;
 * Kiln still reads them in any version, with a warning after v0.5.
 */
const V05_TARGET_KEYS: Readonly<Record<string, string>> = { command: "cmd", initrd: "rootfs" };

function readTarget(
  r: Reader,
  node: Node,
  index: number,
  project: string,
  spec: SpecVersion,
): Target | undefined {
  const where = `target ${index}`;
  let platform: Platform | undefined;
  let architecture: Architecture | undefined;
  let name: string | undefined;
  let kconfig = {};
  let cmd: string[] | undefined;
  let initrd: TargetInitrd | undefined;
  const splitPair = (text: string, at: Node): boolean => {
    const parts = text.split("/");
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      r.sink.error(
        "invalid-target",
        at,
        `${where} must be written \`platform/architecture\`, got \`${text}\``,
        "e.g. `qemu/x86_64`, `fc/x86_64`, `qemu/arm64`",
      );
      return false;
    }
    platform = platformOf(r, parts[0], at);
    architecture = architectureOf(r, parts[1], at);
    return true;
  };
  if (isScalar(node)) {
    const text = r.string(node, where);
    if (text === undefined || !splitPair(text, node)) return undefined;
  } else if (isMap(node)) {
    const known = ["name", "architecture", "arch", "platform", "plat", "kconfig", "command", "initrd"];
    const p = r.pairs(node, known, where);
    for (const [k, topLevel] of Object.entries(V05_TARGET_KEYS)) {
      if (spec !== "0.5" && p.has(k)) {
        r.sink.warn(
          "older-key",
          p.get(k)!.key,
          `\`${k}\` in ${where} is a Kraftfile spec v0.5 key; spec v${spec} sets it with the top-level \`${topLevel}\` (Kiln still applies it to this target)`,
          `move it to the top-level \`${topLevel}\`, or declare \`spec: v0.5\``,
        );
      }
    }
    if (p.has("command"))
      cmd = readCmd(r, r.value(p.get("command")), p.get("command")!.key, `${where} \`command\``);
    if (p.has("initrd")) initrd = readInitrd(r, r.value(p.get("initrd")), p.get("initrd")!.key, where);
    const pick = (a: string, b: string): Pair<Node, Node | null> | undefined => {
      if (p.has(a) && p.has(b)) {
        r.sink.error(
          "conflicting-keys",
          p.get(b)!.key,
          `${where} gives both \`${a}\` and \`${b}\`; they are the same key`,
        );
      }
      return p.get(a) ?? p.get(b);
    };
    const plat = pick("platform", "plat");
    const arch = pick("architecture", "arch");
    if (p.has("name")) name = r.string(r.value(p.get("name")), `${where} name`, p.get("name")!.key);
    if (plat) {
      const text = r.string(r.value(plat), `${where} platform`, plat.key);
      const at = r.value(plat) ?? plat.key;
      // KraftKit accepts `platform: qemu/x86_64` too.
      if (text?.includes("/")) splitPair(text, at);
      else if (text !== undefined) platform = platformOf(r, text, at);
    }
    if (arch) {
      const text = r.string(r.value(arch), `${where} architecture`, arch.key);
      if (text !== undefined) architecture = architectureOf(r, text, r.value(arch) ?? arch.key);
    }
    if (!plat && !platform) {
      r.sink.error("missing-required", node, `${where} has no \`platform\``, "add e.g. `platform: qemu`");
    }
    if (!arch && !architecture) {
      r.sink.error(
        "missing-required",
        node,
        `${where} has no \`architecture\``,
        "add e.g. `architecture: x86_64`",
      );
    }
    kconfig = r.kconfig(r.value(p.get("kconfig")), where);
  } else {
    r.sink.error(
      "invalid-type",
      node,
      `${where} must be \`platform/architecture\` or a mapping with platform and architecture, got ${r.describe(node)}`,
    );
    return undefined;
  }
  if (!platform || !architecture) return undefined;
  return {
    name: name || `${project}_${platformFileName(platform)}-${architecture}`,
    platform,
    architecture,
    kconfig,
    ...(cmd !== undefined ? { cmd } : {}),
    ...(initrd ? { initrd } : {}),
  };
}
