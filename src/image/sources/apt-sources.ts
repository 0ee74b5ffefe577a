/**
 * The host's apt sources, read the way apt reads them (sources.list(5)):
 * one-line `deb [opts] URI SUITE COMPONENT…` files (`sources.list`,
 * `sources.list.d/*.list`) and deb822 stanzas (`sources.list.d/*.sources`:
 * `Types`, `URIs`, `Suites`, `Components`, `Signed-By`, `Enabled`), and the
 * choice of the entry that serves a distribution's packages.
 *
 * Pure: text in, data out. Reading the files is in `apt-mirror.ts`.
 */
import { KilnError } from "../../core/errors.js";

export type Distro = "debian" | "ubuntu";

/** One source entry (a one-line entry or a deb822 stanza). */
export interface AptEntry {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
  /** A keyring path (`signed-by=`/`Signed-By:`), or the text of an inline key block. */
  signedBy?: string;
  enabled: boolean;
  /** Where it was read, `file:line` (the line a stanza starts on). */
  where: string;
}

/** Parse one-line style sources (`sources.list`, `*.list`). Malformed lines are skipped, as apt warns and goes on. */
export function parseOneLineSources(text: string, file: string): AptEntry[] {
  const out: AptEntry[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") return;
    const m = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)((?:\s+\S+)*)$/.exec(line);
    if (!m) return;
    const options = new Map<string, string>();
    for (const opt of (m[2] ?? "").trim().split(/\s+/)) {
      const eq = opt.indexOf("=");
      if (eq > 0) options.set(opt.slice(0, eq).toLowerCase(), opt.slice(eq + 1));
    }
    out.push({
      types: [m[1]!],
      uris: [m[3]!],
      suites: [m[4]!],
      components: (m[5] ?? "").trim().split(/\s+/).filter(Boolean),
      ...(options.has("signed-by") ? { signedBy: options.get("signed-by")! } : {}),
      enabled: true,
      where: `${file}:${i + 1}`,
    });
  });
  return out;
}

/**
 * Parse deb822 style sources (`*.sources`): stanzas separated by blank
 * lines, `Field: value` with continuation lines starting with a space
 * (` .` an empty line of a multi-line value, as an inline `Signed-By` key),
 * `#` comment lines, field names case-insensitive.
 */
export function parseDeb822Sources(text: string, file: string): AptEntry[] {
  const out: AptEntry[] = [];
  let fields = new Map<string, string>();
  let start = 0;
  let last: string | undefined;
  const flush = () => {
    if (fields.size > 0) {
      const words = (k: string) => (fields.get(k) ?? "").split(/\s+/).filter(Boolean);
      const signedBy = fields.get("signed-by")?.trim();
      out.push({
        types: words("types"),
        uris: words("uris"),
        suites: words("suites"),
        components: words("components"),
        ...(signedBy ? { signedBy } : {}),
        enabled: !/^(no|false|0)$/i.test((fields.get("enabled") ?? "yes").trim()),
        where: `${file}:${start}`,
      });
    }
    fields = new Map();
    last = undefined;
  };
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    if (line.startsWith("#")) return;
    if (line.trim() === "") {
      flush();
      return;
    }
    if (/^[ \t]/.test(line)) {
      if (last !== undefined) {
        const more = line.trim() === "." ? "" : line.trim();
        fields.set(last, `${fields.get(last) ?? ""}\n${more}`);
      }
      return;
    }
    const m = /^([^:\s]+):\s*(.*)$/.exec(line);
    if (!m) return;
    if (fields.size === 0) start = i + 1;
    last = m[1]!.toLowerCase();
    fields.set(last, m[2]!.trim());
  });
  flush();
  return out;
}

// Release code names and aliases (Debian's and Ubuntu's release lists), so an
// entry's distribution is known from its suite.
const DEBIAN_SUITES = new Set(
  "hamm slink potato woody sarge etch lenny squeeze wheezy jessie stretch buster bullseye bookworm trixie forky duke sid stable testing unstable oldstable oldoldstable experimental".split(
    " ",
  ),
);
const UBUNTU_SUITES = new Set(
  "precise quantal raring saucy trusty utopic vivid wily xenial yakkety zesty artful bionic cosmic disco eoan focal groovy hirsute impish jammy kinetic lunar mantic noble oracular plucky questing devel".split(
    " ",
  ),
);

/** The host's release (`/etc/os-release`): `ID` and `VERSION_CODENAME`, so a suite newer than Kiln's lists is still known. */
export interface HostRelease {
  id?: string;
  idLike?: string[];
  codename?: string;
}

/** Parse `/etc/os-release` text (os-release(5): `KEY=value`, values optionally quoted). */
export function parseOsRelease(text: string): HostRelease {
  const v = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) v.set(m[1]!, m[2]!.replace(/^(["'])(.*)\1$/, "$2"));
  }
  return {
    ...(v.has("ID") ? { id: v.get("ID")! } : {}),
    ...(v.has("ID_LIKE") ? { idLike: v.get("ID_LIKE")!.split(/\s+/) } : {}),
    ...(v.has("VERSION_CODENAME") ? { codename: v.get("VERSION_CODENAME")! } : {}),
  };
}

/** `bookworm-security` → `bookworm`; `stable/updates` → `stable`. */
function baseSuite(suite: string): string {
  return suite.split(/[-/]/)[0]!;
}

/** Whether a suite is an add-on pocket (security, updates, backports, proposed) rather than the release itself. */
function isPocket(suite: string): boolean {
  return suite !== baseSuite(suite);
}

/** The distribution an entry's suite (or keyring) belongs to, if it can be told. */
export function entryDistro(entry: AptEntry, suite: string, host: HostRelease = {}): Distro | undefined {
  const base = baseSuite(suite);
  if (DEBIAN_SUITES.has(base)) return "debian";
  if (UBUNTU_SUITES.has(base)) return "ubuntu";
  if (host.codename && base === host.codename) {
    for (const id of [host.id, ...(host.idLike ?? [])]) if (id === "debian" || id === "ubuntu") return id;
  }
  const key = entry.signedBy ?? "";
  if (/debian-archive-keyring/.test(key)) return "debian";
  if (/ubuntu-(archive-)?keyring/.test(key)) return "ubuntu";
  return undefined;
}

/** The mirror chosen for a distribution, and where it came from. */
export interface AptMirror {
  /** The archive's base URI (`…/debian`). */
  uri: string;
  /** Components the host's entry lists (`main`, …). */
  components: string[];
  /** Keyring path the host's entry names (never an inline key). */
  signedBy?: string;
  /** `file:line` of the host's entry. */
  where: string;
}

const USABLE_URI = /^(https?|file):/;

/**
 * The host entry that serves `distro`'s packages for `suite`: an enabled
 * `deb` entry of that distribution (told by its suite's code name, the
 * host's own code name, or its keyring) for the release itself, not a
 * security/updates/backports pocket, over http(s) or file. An entry for
 * exactly `suite` wins; otherwise the first, in apt's reading order.
 */
export function pickAptMirror(
  entries: readonly AptEntry[],
  distro: Distro,
  suite: string,
  host: HostRelease = {},
): AptMirror | undefined {
  let first: AptMirror | undefined;
  for (const e of entries) {
    if (!e.enabled || !e.types.includes("deb")) continue;
    for (const s of e.suites) {
      if (isPocket(s) || entryDistro(e, s, host) !== distro) continue;
      for (const uri of e.uris) {
        if (!USABLE_URI.test(uri)) continue;
        const signedBy = e.signedBy && !e.signedBy.includes("\n") ? e.signedBy : undefined;
        const m: AptMirror = {
          uri: uri.replace(/\/+$/, ""),
          components: e.components.length ? e.components : ["main"],
          ...(signedBy ? { signedBy } : {}),
          where: e.where,
        };
        if (s === suite) return m;
        first ??= m;
      }
    }
  }
  return first;
}

/** A one-line sources entry for mmdebstrap's MIRROR argument (mmdebstrap(1): a MIRROR starting with "deb " is used as is). */
export function aptSourceLine(m: AptMirror, suite: string, type: "deb" | "deb-src" = "deb"): string {
  const opts = m.signedBy ? ` [signed-by=${m.signedBy}]` : "";
  return `${type}${opts} ${m.uri} ${suite} ${m.components.join(" ")}`;
}

/** The environment variable overriding the mirror for a distribution. */
export function mirrorEnvVar(distro: Distro): string {
  return distro === "debian" ? "KILN_DEBIAN_MIRROR" : "KILN_UBUNTU_MIRROR";
}

/** The error for a host whose apt configuration has no entry for `distro`. */
export function noMirrorError(
  distro: Distro,
  suite: string,
  files: readonly string[],
  entries: readonly AptEntry[],
  host: HostRelease = {},
): KilnError {
  const seen = entries
    .filter((e) => e.enabled && e.types.includes("deb"))
    .map((e) => {
      const d = e.suites.map((s) => entryDistro(e, s, host)).find(Boolean);
      return `${e.where}: ${e.uris.join(" ")} ${e.suites.join(" ")}${d ? ` (${d})` : ""}`;
    });
  const read = files.length ? files.join(", ") : "no apt source files";
  return new KilnError(
    "APT_NO_MIRROR",
    `no apt source on this host serves ${distro} packages for ${distro}:${suite} (read ${read}${seen.length ? `; deb entries: ${seen.join("; ")}` : "; no deb entries"})`,
    {
      hint: `give a ${distro} mirror: --mirror URL, ${mirrorEnvVar(distro)}=URL, or in config.yaml:\napt-mirrors:\n  ${distro}: URL`,
    },
  );
}
