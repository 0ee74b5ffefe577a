/**
 * Which package mirror `debian:SUITE` / `ubuntu:SUITE` use: `--mirror URL`,
 * then `KILN_DEBIAN_MIRROR` / `KILN_UBUNTU_MIRROR`, then `apt-mirrors:` in
 * `<configDir>/config.yaml`, then the host's own apt configuration (the
 * mirror apt already uses works where a public host may not: company
 * networks, air-gapped labs). No usable entry is an error saying how to
 * give one; Kiln names no mirror host of its own.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { errnoCode, KilnError } from "../../core/errors.js";
import { kilnDirs } from "../../core/paths.js";
import {
  type AptEntry,
  type AptMirror,
  aptSourceLine,
  type Distro,
  mirrorEnvVar,
  noMirrorError,
  parseDeb822Sources,
  parseOneLineSources,
  parseOsRelease,
  pickAptMirror,
} from "./apt-sources.js";

/** The mirror to use and where it came from. */
export interface PackageMirror {
  /** What mmdebstrap gets as MIRROR: a URL, or a one-line `deb …` entry built from the host's. */
  mirrorArg: string;
  /** The archive URL. */
  uri: string;
  /** `--mirror`, `KILN_DEBIAN_MIRROR`, `<config.yaml>`, or `apt: FILE:LINE`. */
  from: string;
}

export interface MirrorRequest {
  distro: Distro;
  suite: string;
  /** `--mirror URL`. */
  mirror?: string;
  env?: NodeJS.ProcessEnv;
  /** apt's configuration directory (default `KILN_APT_ETC` or `/etc/apt`). */
  aptEtc?: string;
  /** os-release file (default `/etc/os-release`). */
  osRelease?: string;
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (e) {
    if (errnoCode(e) === "ENOENT" || errnoCode(e) === "ENOTDIR") return undefined;
    throw new KilnError("APT_SOURCES_UNREADABLE", `cannot read ${file}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/** Every entry of the host's apt sources, in apt's reading order, and the files read. */
export async function readAptSources(aptEtc = "/etc/apt"): Promise<{ files: string[]; entries: AptEntry[] }> {
  const files: string[] = [];
  const entries: AptEntry[] = [];
  const main = join(aptEtc, "sources.list");
  const text = await readOptional(main);
  if (text !== undefined) {
    files.push(main);
    entries.push(...parseOneLineSources(text, main));
  }
  const partsDir = join(aptEtc, "sources.list.d");
  const names = await readdir(partsDir).catch(() => [] as string[]);
  // apt reads sources.list.d in alphabetical order, only *.list and *.sources.
  for (const name of names.sort()) {
    const file = join(partsDir, name);
    const isList = name.endsWith(".list");
    if (!isList && !name.endsWith(".sources")) continue;
    const t = await readOptional(file);
    if (t === undefined) continue;
    files.push(file);
    entries.push(...(isList ? parseOneLineSources(t, file) : parseDeb822Sources(t, file)));
  }
  return { files, entries };
}

/** The `apt-mirrors:` map of config.yaml (pure). */
export function parseConfigAptMirrors(text: string, file: string): Partial<Record<Distro, string>> {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new KilnError("CONFIG_INVALID", `${file} is not valid YAML: ${(e as Error).message}`, { cause: e });
  }
  const m = (doc as { "apt-mirrors"?: unknown } | null)?.["apt-mirrors"];
  if (m === undefined || m === null) return {};
  const ok =
    typeof m === "object" &&
    !Array.isArray(m) &&
    Object.entries(m).every(([k, v]) => (k === "debian" || k === "ubuntu") && typeof v === "string");
  if (!ok) {
    throw new KilnError("CONFIG_INVALID", `${file}: "apt-mirrors" must map debian/ubuntu to a URL`, {
      hint: "write e.g.\napt-mirrors:\n  debian: http://apt.example.org/debian",
    });
  }
  return m as Partial<Record<Distro, string>>;
}

/** Resolve the mirror for `distro:suite` (see the module doc). */
export async function resolvePackageMirror(req: MirrorRequest): Promise<PackageMirror> {
  const env = req.env ?? process.env;
  const given = (mirrorArg: string, from: string): PackageMirror => ({ mirrorArg, uri: mirrorArg, from });
  if (req.mirror) return given(req.mirror, "--mirror");
  const envVar = mirrorEnvVar(req.distro);
  if (env[envVar]) return given(env[envVar]!, envVar);
  const configFile = join(kilnDirs(env).configDir, "config.yaml");
  const configText = await readOptional(configFile);
  if (configText !== undefined) {
    const url = parseConfigAptMirrors(configText, configFile)[req.distro];
    if (url) return given(url, configFile);
  }
  const aptEtc = req.aptEtc ?? env.KILN_APT_ETC ?? "/etc/apt";
  const { files, entries } = await readAptSources(aptEtc);
  const host = parseOsRelease((await readOptional(req.osRelease ?? "/etc/os-release")) ?? "");
  const picked: AptMirror | undefined = pickAptMirror(entries, req.distro, req.suite, host);
  if (!picked) throw noMirrorError(req.distro, req.suite, files, entries, host);
  return { mirrorArg: aptSourceLine(picked, req.suite), uri: picked.uri, from: `apt: ${picked.where}` };
}
