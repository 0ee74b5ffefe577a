/**
 * The Linuxfile: a Linux microVM project beside (or instead of) a
 * Kraftfile. A file of its own rather than a Kraftfile extension: a
 * Kraftfile must name `unikraft`, `template` or `runtime` and KraftKit
 * would try to build or pull it, while a Linux guest has neither; the
 * Linuxfile keeps the Kraftfile's YAML style and vocabulary (`name`, `cmd`
 * as kernel arguments, `volumes`) for what a Linux guest adds: a kernel to
 * build, a root filesystem to make, the machine's size.
 *
 * Parsing is pure: text in, a project or diagnostics with line:column out.
 */
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from "yaml";
import { KilnError } from "../../core/errors.js";

/** The file name Kiln looks for. */
export const LINUXFILE = "Linuxfile";

/** Architectures a Linuxfile may name. */
const ARCHES = ["x86_64", "arm64"] as const;

/** A Linux microVM project. */
export interface LinuxProject {
  file: string;
  name: string;
  kernel:
    | { kind: "source"; source: string; arch: "x86_64" | "arm64"; config?: string; fragments: string[] }
    | { kind: "file"; path: string; arch: "x86_64" | "arm64" };
  rootfs: {
    source: string;
    format: "ext4" | "erofs";
    packages: string[];
    guestSetup: boolean;
    hostname?: string;
    /** Root logs in on the console without a password (implies guest set-up). */
    passwordlessRoot?: boolean;
    size?: string;
  };
  /** `init=` on the kernel command line. */
  init?: string;
  /** Further kernel arguments. */
  cmdline: string[];
  memory?: string;
  cpus?: number;
  volumes: string[];
  ports: string[];
}

/** One problem with its position. */
export interface LinuxfileProblem {
  line: number;
  col: number;
  message: string;
}

const TOP = ["spec", "name", "kernel", "rootfs", "init", "cmdline", "memory", "cpus", "volumes", "ports"];
const KERNEL = ["source", "file", "arch", "config", "fragments"];
const ROOTFS = ["source", "format", "packages", "guest-setup", "hostname", "passwordless-root", "size"];

/** Parse and validate a Linuxfile; every problem is listed with its position. */
export function parseLinuxfile(
  text: string,
  file: string,
): { project?: LinuxProject; problems: LinuxfileProblem[] } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  const problems: LinuxfileProblem[] = [];
  const at = (node: Node | null | undefined, message: string) => {
    const pos = lc.linePos(node?.range?.[0] ?? 0);
    problems.push({ line: pos.line, col: pos.col, message });
  };
  for (const e of doc.errors) {
    const pos = lc.linePos(e.pos[0]);
    problems.push({ line: pos.line, col: pos.col, message: `invalid YAML: ${e.message.split("\n")[0]}` });
  }
  if (problems.length > 0) return { problems };
  const root = doc.contents;
  if (!isMap(root)) {
    at(root, "a Linuxfile is a mapping with `kernel` and `rootfs`");
    return { problems };
  }
  const keysOf = (map: YAMLMap, known: string[], where: string) => {
    const out = new Map<string, Node>();
    for (const pair of map.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : "";
      if (!known.includes(key)) {
        at(pair.key as Node, `unknown key \`${key}\` in ${where}; known keys: ${known.join(", ")}`);
        continue;
      }
      out.set(key, pair.value as Node);
    }
    return out;
  };
  const str = (n: Node | undefined, what: string): string | undefined => {
    if (n === undefined) return undefined;
    if (
      isScalar(n) &&
      (typeof n.value === "string" || typeof n.value === "number") &&
      String(n.value) !== ""
    ) {
      return String(n.value);
    }
    at(n, `\`${what}\` must be a non-empty string`);
    return undefined;
  };
  const strList = (n: Node | undefined, what: string): string[] => {
    if (n === undefined) return [];
    if (isScalar(n) && typeof n.value === "string") return n.value.split(/\s+/).filter(Boolean);
    if (!isSeq(n)) {
      at(n, `\`${what}\` must be a list of strings`);
      return [];
    }
    return n.items.map((i) => str(i as Node, `${what} item`) ?? "");
  };
  const top = keysOf(root, TOP, "the Linuxfile");
  const spec = str(top.get("spec"), "spec");
  if (spec !== undefined && spec !== "linux/v1")
    at(top.get("spec"), `\`spec\` must be linux/v1, got ${spec}`);
  const name = str(top.get("name"), "name") ?? "linux";

  const kNode = top.get("kernel");
  let kernel: LinuxProject["kernel"] | undefined;
  if (!kNode || !isMap(kNode)) {
    at(
      kNode ?? root,
      kNode
        ? "`kernel` must be a mapping (source: or file:)"
        : "missing `kernel` (source: DIR|TARBALL, or file: KERNEL)",
    );
  } else {
    const k = keysOf(kNode, KERNEL, "kernel");
    const archText = str(k.get("arch"), "kernel.arch") ?? "x86_64";
    if (!(ARCHES as readonly string[]).includes(archText))
      at(k.get("arch"), `\`kernel.arch\` must be one of ${ARCHES.join(", ")}, got ${archText}`);
    const arch = archText as "x86_64" | "arm64";
    const source = str(k.get("source"), "kernel.source");
    const path = str(k.get("file"), "kernel.file");
    if ((source === undefined) === (path === undefined)) {
      at(
        kNode,
        "`kernel` needs exactly one of `source` (a Linux tree or tarball to build) and `file` (a built kernel)",
      );
    } else if (path !== undefined) {
      if (k.has("config") || k.has("fragments"))
        at(k.get("config") ?? k.get("fragments"), "`config` and `fragments` only go with `kernel.source`");
      kernel = { kind: "file", path, arch };
    } else {
      const config = str(k.get("config"), "kernel.config");
      kernel = {
        kind: "source",
        source: source!,
        arch,
        ...(config !== undefined && config !== "baseline" ? { config } : {}),
        fragments: strList(k.get("fragments"), "kernel.fragments"),
      };
    }
  }

  const rNode = top.get("rootfs");
  let rootfs: LinuxProject["rootfs"] | undefined;
  if (!rNode || !isMap(rNode)) {
    at(
      rNode ?? root,
      rNode
        ? "`rootfs` must be a mapping (source: …)"
        : "missing `rootfs` (source: DIR, TARBALL, docker://REF or debian:SUITE)",
    );
  } else {
    const r = keysOf(rNode, ROOTFS, "rootfs");
    const source = str(r.get("source"), "rootfs.source");
    if (source === undefined && !r.has("source")) at(rNode, "missing `rootfs.source`");
    const format = str(r.get("format"), "rootfs.format") ?? "ext4";
    if (format !== "ext4" && format !== "erofs")
      at(r.get("format"), `\`rootfs.format\` must be ext4 or erofs, got ${format}`);
    const setupNode = r.get("guest-setup");
    if (setupNode !== undefined && !(isScalar(setupNode) && typeof setupNode.value === "boolean")) {
      at(setupNode, "`rootfs.guest-setup` must be true or false");
    }
    const hostname = str(r.get("hostname"), "rootfs.hostname");
    const pwNode = r.get("passwordless-root");
    if (pwNode !== undefined && !(isScalar(pwNode) && typeof pwNode.value === "boolean")) {
      at(pwNode, "`rootfs.passwordless-root` must be true or false");
    }
    const passwordlessRoot = isScalar(pwNode) && pwNode.value === true;
    const size = str(r.get("size"), "rootfs.size");
    rootfs = {
      source: source ?? "",
      format: format as "ext4" | "erofs",
      packages: strList(r.get("packages"), "rootfs.packages"),
      guestSetup:
        (isScalar(setupNode) && setupNode.value === true) || hostname !== undefined || passwordlessRoot,
      ...(hostname !== undefined ? { hostname } : {}),
      ...(passwordlessRoot ? { passwordlessRoot } : {}),
      ...(size !== undefined ? { size } : {}),
    };
  }
  const cpusNode = top.get("cpus");
  let cpus: number | undefined;
  if (cpusNode !== undefined) {
    if (isScalar(cpusNode) && Number.isInteger(cpusNode.value) && (cpusNode.value as number) > 0)
      cpus = cpusNode.value as number;
    else at(cpusNode, "`cpus` must be a positive whole number");
  }
  const init = str(top.get("init"), "init");
  const memory = str(top.get("memory"), "memory");
  const project: LinuxProject | undefined =
    kernel && rootfs && problems.length === 0
      ? {
          file,
          name,
          kernel,
          rootfs,
          ...(init !== undefined ? { init } : {}),
          cmdline: strList(top.get("cmdline"), "cmdline"),
          ...(memory !== undefined ? { memory } : {}),
          ...(cpus !== undefined ? { cpus } : {}),
          volumes: strList(top.get("volumes"), "volumes"),
          ports: strList(top.get("ports"), "ports"),
        }
      : undefined;
  return { ...(project ? { project } : {}), problems };
}

/** Parse or throw LINUXFILE_INVALID at the first problem, listing all of them. */
export function loadLinuxfileText(text: string, file: string): LinuxProject {
  const { project, problems } = parseLinuxfile(text, file);
  if (project) return project;
  const first = problems[0]!;
  throw new KilnError("LINUXFILE_INVALID", first.message, {
    location: { file, line: first.line, col: first.col },
    details: problems.slice(1).map((p) => `${file}:${p.line}:${p.col}: error: ${p.message}`),
    hint: `${problems.length} problem${problems.length === 1 ? "" : "s"} in ${file}; see the README section "Linux microVM projects"`,
  });
}
