import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { isKilnError } from "../../core/errors.js";
import { parseConfigAptMirrors, readAptSources, resolvePackageMirror } from "./apt-mirror.js";
import {
  aptSourceLine,
  noMirrorError,
  parseDeb822Sources,
  parseOneLineSources,
  parseOsRelease,
  pickAptMirror,
} from "./apt-sources.js";

// A Debian host's deb822 file as Debian's installer writes it (two stanzas,
// comments inside), and one-line files with options and trailing comments.
const DEBIAN_SOURCES = `# main archive
Types: deb
# http://snapshot.example.test/archive/debian/20250520T000000Z
URIs: http://apt.example.test/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://apt.example.test/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

const THIRD_PARTY = `Types: deb
URIs: https://vendor.example.test/node_20.x
Suites: nodistro
Components: main
Signed-By: /usr/share/keyrings/vendor.gpg
`;

test("deb822: stanzas, comments, fields, the line a stanza starts on", () => {
  const e = parseDeb822Sources(DEBIAN_SOURCES, "/etc/apt/sources.list.d/debian.sources");
  assert.equal(e.length, 2);
  assert.deepEqual(e[0], {
    types: ["deb"],
    uris: ["http://apt.example.test/debian"],
    suites: ["bookworm", "bookworm-updates"],
    components: ["main", "contrib"],
    signedBy: "/usr/share/keyrings/debian-archive-keyring.gpg",
    enabled: true,
    where: "/etc/apt/sources.list.d/debian.sources:2",
  });
  assert.equal(e[1]!.where, "/etc/apt/sources.list.d/debian.sources:9");
});

test("deb822: Enabled: no, case-insensitive names, an inline key block is not a keyring path", () => {
  const text = [
    "types: deb deb-src",
    "URIs: http://a.example.test/debian",
    "Suites: trixie",
    "Components: main",
    "Enabled: no",
    "",
    "Types: deb",
    "URIs: http://b.example.test/debian",
    "Suites: trixie",
    "Components: main",
    "Signed-By:",
    " -----BEGIN PGP PUBLIC KEY BLOCK-----",
    " .",
    " mQINBGPL0BUBEADmW5NdOOHwPIJlgPu6JDcKw/NZJPR8lsD3K87ZM18gzyQZJD+w",
    " -----END PGP PUBLIC KEY BLOCK-----",
  ].join("\n");
  const e = parseDeb822Sources(text, "x.sources");
  assert.deepEqual(e[0]!.types, ["deb", "deb-src"]);
  assert.equal(e[0]!.enabled, false);
  assert.match(e[1]!.signedBy ?? "", /^-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINB/);
  const m = pickAptMirror(e, "debian", "trixie");
  assert.deepEqual(m, { uri: "http://b.example.test/debian", components: ["main"], where: "x.sources:7" });
});

test("one-line: options in brackets, comments, deb-src, malformed lines skipped", () => {
  const text = [
    "# deb http://old.example.test/debian buster main",
    "deb [arch=amd64 signed-by=/usr/share/keyrings/ubuntu-archive-keyring.gpg] http://u.example.test/ubuntu/ jammy main universe # note",
    "deb-src http://u.example.test/ubuntu jammy main",
    "deb cdrom:[Ubuntu 22.04]/ jammy main",
    "this is not an entry",
  ].join("\n");
  const e = parseOneLineSources(text, "/etc/apt/sources.list");
  assert.equal(e.length, 3);
  assert.deepEqual(e[0], {
    types: ["deb"],
    uris: ["http://u.example.test/ubuntu/"],
    suites: ["jammy"],
    components: ["main", "universe"],
    signedBy: "/usr/share/keyrings/ubuntu-archive-keyring.gpg",
    enabled: true,
    where: "/etc/apt/sources.list:2",
  });
  assert.deepEqual(e[1]!.types, ["deb-src"]);
});

test("pick: the distribution's release entry, not a pocket or a third party; an exact suite wins", () => {
  const entries = [
    ...parseDeb822Sources(THIRD_PARTY, "/a/nodesource.sources"),
    ...parseDeb822Sources(DEBIAN_SOURCES, "/a/debian.sources"),
    ...parseOneLineSources("deb http://other.example.test/debian trixie main\n", "/a/z.list"),
  ];
  // bookworm: the entry listing bookworm itself (not -updates, not -security).
  assert.deepEqual(pickAptMirror(entries, "debian", "bookworm"), {
    uri: "http://apt.example.test/debian",
    components: ["main", "contrib"],
    signedBy: "/usr/share/keyrings/debian-archive-keyring.gpg",
    where: "/a/debian.sources:2",
  });
  assert.equal(pickAptMirror(entries, "debian", "trixie")?.uri, "http://other.example.test/debian");
  // Another Debian suite from the first Debian archive.
  assert.equal(pickAptMirror(entries, "debian", "sid")?.uri, "http://apt.example.test/debian");
  assert.equal(pickAptMirror(entries, "ubuntu", "noble"), undefined);
  assert.equal(
    aptSourceLine(pickAptMirror(entries, "debian", "sid")!, "sid"),
    "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://apt.example.test/debian sid main contrib",
  );
});

test("pick: a code name Kiln does not know is the host's distribution by /etc/os-release, or by its keyring", () => {
  const host = parseOsRelease(
    'PRETTY_NAME="Debian GNU/Linux 14 (duke2)"\nID=debian\nVERSION_CODENAME=duke2\n',
  );
  assert.deepEqual(host, { id: "debian", codename: "duke2" });
  const e = parseOneLineSources("deb http://n.example.test/debian duke2 main\n", "/l");
  assert.equal(pickAptMirror(e, "debian", "duke2"), undefined);
  assert.equal(pickAptMirror(e, "debian", "duke2", host)?.uri, "http://n.example.test/debian");
  const keyed = parseOneLineSources(
    "deb [signed-by=/usr/share/keyrings/ubuntu-archive-keyring.gpg] http://k.example.test/ubuntu zzz main\n",
    "/l",
  );
  assert.equal(pickAptMirror(keyed, "ubuntu", "zzz")?.uri, "http://k.example.test/ubuntu");
});

test("no usable entry: the error names the files read, the entries seen and how to give a mirror", () => {
  const entries = parseDeb822Sources(DEBIAN_SOURCES, "/etc/apt/sources.list.d/debian.sources");
  const e = noMirrorError("ubuntu", "jammy", ["/etc/apt/sources.list.d/debian.sources"], entries);
  assert.equal(e.code, "APT_NO_MIRROR");
  assert.match(e.message, /no apt source on this host serves ubuntu packages for ubuntu:jammy/);
  assert.match(
    e.message,
    /debian\.sources:2: http:\/\/apt\.example\.test\/debian bookworm bookworm-updates \(debian\)/,
  );
  assert.match(e.hint ?? "", /--mirror URL, KILN_UBUNTU_MIRROR=URL/);
  assert.match(e.hint ?? "", /apt-mirrors:\n {2}ubuntu: URL/);
});

function aptDir(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), "kiln-apt-"));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  mkdirSync(join(d, "etc/sources.list.d"), { recursive: true });
  mkdirSync(join(d, "home/config"), { recursive: true });
  return d;
}

test("resolve: --mirror, then KILN_DEBIAN_MIRROR, then config.yaml apt-mirrors, then the host's apt", async (t) => {
  const d = aptDir(t);
  writeFileSync(join(d, "etc/sources.list.d/debian.sources"), DEBIAN_SOURCES);
  writeFileSync(join(d, "etc/sources.list.d/vendor.sources"), THIRD_PARTY);
  writeFileSync(
    join(d, "etc/sources.list.d/ignored.list.save"),
    "deb http://no.example.test/debian bookworm main\n",
  );
  writeFileSync(join(d, "etc/sources.list"), "# empty\n");
  const env = { KILN_HOME: join(d, "home"), KILN_APT_ETC: join(d, "etc") };
  const read = await readAptSources(join(d, "etc"));
  assert.deepEqual(
    read.files.map((f) => f.slice(d.length)),
    ["/etc/sources.list", "/etc/sources.list.d/debian.sources", "/etc/sources.list.d/vendor.sources"],
  );
  const fromApt = await resolvePackageMirror({ distro: "debian", suite: "bookworm", env });
  assert.equal(fromApt.uri, "http://apt.example.test/debian");
  assert.equal(fromApt.from, `apt: ${join(d, "etc/sources.list.d/debian.sources")}:2`);
  assert.equal(
    fromApt.mirrorArg,
    "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://apt.example.test/debian bookworm main contrib",
  );
  writeFileSync(
    join(d, "home/config/config.yaml"),
    "apt-mirrors:\n  debian: http://cfg.example.test/debian\n",
  );
  const fromConfig = await resolvePackageMirror({ distro: "debian", suite: "bookworm", env });
  assert.deepEqual(fromConfig, {
    mirrorArg: "http://cfg.example.test/debian",
    uri: "http://cfg.example.test/debian",
    from: join(d, "home/config/config.yaml"),
  });
  const envMirror = { ...env, KILN_DEBIAN_MIRROR: "http://env.example.test/debian" };
  assert.equal(
    (await resolvePackageMirror({ distro: "debian", suite: "bookworm", env: envMirror })).from,
    "KILN_DEBIAN_MIRROR",
  );
  const flag = await resolvePackageMirror({
    distro: "debian",
    suite: "bookworm",
    env: envMirror,
    mirror: "file:///srv/debian",
  });
  assert.deepEqual(flag, { mirrorArg: "file:///srv/debian", uri: "file:///srv/debian", from: "--mirror" });
  // Ubuntu on this Debian host: no entry, and config.yaml names none.
  await assert.rejects(
    resolvePackageMirror({ distro: "ubuntu", suite: "noble", env }),
    (e) =>
      isKilnError(e, "APT_NO_MIRROR") &&
      e.message.includes("vendor.sources:1: https://vendor.example.test/node_20.x nodistro"),
  );
});

test("config.yaml apt-mirrors must map debian/ubuntu to strings", () => {
  assert.deepEqual(parseConfigAptMirrors("mirrors: [/srv/m]\n", "/c.yaml"), {});
  assert.throws(
    () => parseConfigAptMirrors("apt-mirrors: http://x.example.test/debian\n", "/c.yaml"),
    (e) =>
      isKilnError(e, "CONFIG_INVALID") && /apt-mirrors" must map debian\/ubuntu to a URL/.test(e.message),
  );
  assert.throws(
    () => parseConfigAptMirrors("apt-mirrors:\n  fedora: http://x.example.test/\n", "/c.yaml"),
    (e) => isKilnError(e, "CONFIG_INVALID"),
  );
});
