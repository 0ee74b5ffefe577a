/**
 * scripts/deb-src-from-host.sh: the README's recipe for fetching Debian
 * source packages builds its deb-src stanza from the host's own deb entry.
 * Checked with apt itself on private apt configurations (APT_CONFIG), and on
 * this host's real one against Kiln's own reading (resolvePackageMirror).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { which } from "../../src/core/exec.js";
import { resolvePackageMirror } from "../../src/image/sources/apt-mirror.js";
import { parseOsRelease } from "../../src/image/sources/apt-sources.js";
import { REPO_ROOT, scratchDir } from "../helpers/kiln.js";

const SCRIPT = join(REPO_ROOT, "scripts/deb-src-from-host.sh");
const skip = which("apt-get") ? false : "apt-get missing (the script asks apt to read its configuration)";

/** A private apt configuration under `dir` holding these sources.list and sources.list.d files. */
function privateApt(dir: string, list: string, parts: Record<string, string>): string {
  mkdirSync(join(dir, "parts"), { recursive: true });
  mkdirSync(join(dir, "state/lists/partial"), { recursive: true });
  writeFileSync(join(dir, "sources.list"), list);
  for (const [name, text] of Object.entries(parts)) writeFileSync(join(dir, "parts", name), text);
  const conf = join(dir, "apt.conf");
  writeFileSync(
    conf,
    `Dir::Etc::SourceList "${dir}/sources.list"; Dir::Etc::SourceParts "${dir}/parts"; Dir::State "${dir}/state";\n`,
  );
  return conf;
}

function runScript(args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync("sh", [SCRIPT, ...args], { env: { ...process.env, ...env }, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const DEB822 = [
  "# Written by hand; a comment-only paragraph first.",
  "",
  "Types: deb",
  "URIs: http://a.example.test/debian/",
  "Suites: bookworm bookworm-updates",
  "Components: main contrib",
  "Signed-By: /usr/share/keyrings/a.gpg",
  "",
  "Types: deb",
  "# a comment inside the stanza",
  "URIs: http://b.example.test/debian",
  "Suites: trixie",
  "Components: main",
  "Signed-By: /usr/share/keyrings/b.gpg",
  "",
].join("\n");
const ONE_LINE =
  "# deb http://old.example.test/ubuntu focal main\ndeb [arch=amd64 signed-by=/k/u.gpg] http://u.example.test/ubuntu jammy main universe\n";

test("deb-src stanza from the host's deb entry: URI, components, Signed-By, deb822 and one-line", {
  skip,
}, (t) => {
  const dir = scratchDir(t);
  const conf = privateApt(dir, ONE_LINE, { "x.sources": DEB822 });
  const osRelease = join(dir, "os-release");
  writeFileSync(osRelease, 'ID=debian\nVERSION_CODENAME="bookworm"\n');
  const env = { APT_CONFIG: conf, OS_RELEASE_FILE: osRelease };

  const trixie = runScript(["trixie"], env);
  assert.equal(trixie.code, 0, trixie.stderr);
  assert.equal(
    trixie.stdout,
    [
      `# from the host's deb entry ${dir}/parts/x.sources:2 (http://b.example.test/debian trixie)`,
      "Types: deb-src",
      "URIs: http://b.example.test/debian",
      "Suites: trixie",
      "Components: main",
      "Signed-By: /usr/share/keyrings/b.gpg",
      "",
    ].join("\n"),
  );
  const jammy = runScript(["jammy"], env);
  assert.equal(jammy.code, 0, jammy.stderr);
  assert.match(jammy.stdout, /^URIs: http:\/\/u\.example\.test\/ubuntu$/m);
  assert.match(jammy.stdout, /^Components: main universe$/m);
  assert.match(jammy.stdout, /^Signed-By: \/k\/u\.gpg$/m);
  // A suite no entry lists: the archive of the host's own release (bookworm), not its -updates pocket.
  const sid = runScript(["sid"], env);
  assert.equal(sid.code, 0, sid.stderr);
  assert.match(
    sid.stdout,
    /^URIs: http:\/\/a\.example\.test\/debian\nSuites: sid\nComponents: main contrib\n/m,
  );
  assert.match(sid.stdout, /^Signed-By: \/usr\/share\/keyrings\/a\.gpg$/m);

  // apt takes the stanza: a private configuration with only it lists deb-src indexes for trixie.
  const srcDir = join(dir, "src");
  const srcConf = privateApt(srcDir, "", { "src.sources": trixie.stdout });
  const seen = spawnSync(
    "apt-get",
    ["indextargets", "--no-release-info", "--format", "$(TARGET_OF) $(REPO_URI) $(RELEASE) $(COMPONENT)"],
    { env: { ...process.env, APT_CONFIG: srcConf }, encoding: "utf8" },
  );
  assert.equal(seen.status, 0, seen.stderr);
  assert.ok(
    seen.stdout.split("\n").includes("deb-src http://b.example.test/debian/ trixie main"),
    seen.stdout,
  );
});

test("no entry for the suite nor the host's release: exit 1 listing what apt has; usage error without SUITE", {
  skip,
}, (t) => {
  const dir = scratchDir(t);
  const conf = privateApt(dir, ONE_LINE, {});
  const r = runScript(["noble"], { APT_CONFIG: conf, OS_RELEASE_FILE: join(dir, "none") });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /no deb entry in this host's apt configuration serves noble/);
  assert.match(r.stderr, /seen: http:\/\/u\.example\.test\/ubuntu\/ jammy/);
  const usage = runScript([], {});
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /usage: .* SUITE/);
});

test("on this host: the script and Kiln's own reading pick the same archive for the host's release", {
  skip,
}, async (t) => {
  let host: ReturnType<typeof parseOsRelease> = {};
  try {
    host = parseOsRelease(readFileSync("/etc/os-release", "utf8"));
  } catch {
    // no os-release: nothing to compare
  }
  if ((host.id !== "debian" && host.id !== "ubuntu") || !host.codename) {
    t.skip("this host is neither Debian nor Ubuntu (by /etc/os-release)");
    return;
  }
  let uri: string;
  try {
    // Only the host's apt: no override from the environment or a config file.
    uri = (
      await resolvePackageMirror({
        distro: host.id,
        suite: host.codename,
        env: { KILN_HOME: scratchDir(t) },
      })
    ).uri;
  } catch (e) {
    t.skip(`this host's apt has no ${host.id} entry: ${(e as Error).message}`);
    return;
  }
  const r = runScript([host.codename], {});
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^URIs: ${uri.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`, "m"));
});
