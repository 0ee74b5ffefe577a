// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the Kraftfile written here uses `${VAR}` interpolation
/**
 * `kiln validate` and `kiln inspect` as a user runs them: exit codes, what
 * is printed where, and the JSON shapes scripts read.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT, runKiln, scratchDir } from "../helpers/kiln.js";

const EXAMPLE = join(REPO_ROOT, "examples/helloworld");
const BAD = join(REPO_ROOT, "test/fixtures/kraftfile/bad");

test("kiln validate: the example project is ok, exit 0", async () => {
  const r = await runKiln(["validate", "examples/helloworld"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `ok: ${join(EXAMPLE, "Kraftfile")} (spec v0.6, 3 targets)\n`);
});

test("kiln validate: all problems with position, source line and caret; exit 1", async () => {
  const file = join(BAD, "target-typo.Kraftfile");
  const r = await runKiln(["validate", "-K", file]);
  assert.equal(r.code, 1);
  const lines = r.stdout.split("\n");
  assert.equal(
    lines[0],
    `${file}:4:5: warning: unknown key \`platfrom\` in target 1; did you mean \`platform\`?`,
  );
  assert.equal(lines[1], "4 |   - platfrom: qemu");
  assert.equal(lines[2], "  |     ^");
  assert.match(r.stdout, new RegExp(`${file}:4:5: error: target 1 has no \`platform\``));
  assert.match(r.stdout, /hint: add e\.g\. `platform: qemu`/);
  assert.match(r.stdout, /: 1 error, 1 warning\n$/);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, "no stack trace");
});

test("kiln validate --json: counts and diagnostics for scripts", async () => {
  const r = await runKiln(["validate", "--json", "-K", join(BAD, "duplicate-targets.Kraftfile")]);
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout) as {
    ok: boolean;
    errors: number;
    warnings: number;
    diagnostics: { code: string; line: number; col: number }[];
  };
  assert.equal(out.ok, false);
  assert.equal(out.errors, 1);
  assert.deepEqual(
    out.diagnostics.map((d) => [d.code, d.line, d.col]),
    [["duplicate-target", 7, 5]],
  );
  const ok = await runKiln(["validate", "--json", "examples/helloworld"]);
  assert.equal(ok.code, 0);
  const good = JSON.parse(ok.stdout) as { ok: boolean; targets: string[] };
  assert.equal(good.ok, true);
  assert.deepEqual(good.targets, ["helloworld_qemu-x86_64", "helloworld_qemu-arm64", "helloworld_fc-x86_64"]);
});

test("kiln validate: a directory without a Kraftfile names the files tried", async (t) => {
  const dir = scratchDir(t);
  const r = await runKiln(["validate", dir]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(
    r.stderr,
    /^error: no Kraftfile in .* \(tried Kraftfile, Kraftfile\.yaml, Kraftfile\.yml, kraft\.yaml, kraft\.yml\)\nhint: /,
  );
});

test("kiln validate: binary junk gets one clear error at 1:1", async () => {
  const r = await runKiln(["validate", "-K", join(BAD, "binary.bin")]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /binary\.bin:1:1: error: not a text file: found a NUL byte at byte 7/);
});

test("kiln inspect: the normalized example, as text and as JSON", async () => {
  const text = await runKiln(["inspect", "examples/helloworld"]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^name {6}helloworld$/m);
  assert.match(
    text.stdout,
    /^unikraft +git https:\/\/github\.com\/unikraft\/unikraft @ stable \(1 kconfig option\)$/m,
  );
  assert.match(text.stdout, /helloworld_fc-x86_64 +firecracker\/x86_64/);
  const json = await runKiln(["inspect", "--json"], { cwd: EXAMPLE });
  assert.equal(json.code, 0, json.stderr);
  const p = JSON.parse(json.stdout);
  assert.equal(p.file, join(EXAMPLE, "Kraftfile"));
  assert.equal(p.outdir, join(EXAMPLE, ".unikraft/build"));
  assert.deepEqual(p.unikraft, {
    name: "unikraft",
    source: { type: "git", url: "https://github.com/unikraft/unikraft", version: "stable" },
    kconfig: { CONFIG_LIBUKDEBUG_PRINTK_INFO: "y" },
  });
  assert.deepEqual(
    p.targets.map((t: { platform: string; architecture: string }) => `${t.platform}/${t.architecture}`),
    ["qemu/x86_64", "qemu/arm64", "firecracker/x86_64"],
  );
});

test("kiln inspect: short forms, interpolation and paths are expanded; warnings on stderr", async (t) => {
  const dir = join(scratchDir(t), "proj");
  mkdirSync(join(dir, "vendor/unikraft"), { recursive: true });
  writeFileSync(
    join(dir, "kraft.yml"),
    [
      "spec: '0.7'",
      "unikraft: ./vendor/unikraft",
      "libraries:",
      "  lwip: https://github.com/unikraft/lib-lwip.git@v0.17.0",
      "  musl:",
      "    source: https://example.org/musl.git?tag=1.2.3",
      "  nolibc: https://example.org/nolibc-1.0.tar.gz",
      "targets:",
      "  - name: ${TARGET_NAME:-dev}",
      "    plat: fc",
      "    arch: aarch64",
      "  - kvm/amd64",
      "cmd: /bin/server --name \"hello world\" '${X}'",
      "env:",
      "  - MODE=${MODE}",
      "  - EMPTY",
      "volumes:",
      "  - ./data:/data:ro",
      "  - source: /srv",
      "    destination: /srv",
      "    driver: 9pfs",
      "rootfs:",
      "  source: ./rootfs",
      "  format: erofs",
      "x-note: {owner: me}",
      "colour: blue",
      "",
    ].join("\n"),
  );
  const r = await runKiln(["inspect", "--json", dir], { env: { MODE: "prod", TARGET_NAME: "" } });
  assert.equal(r.code, 0, r.stderr);
  const p = JSON.parse(r.stdout);
  assert.equal(p.specification, "0.7");
  assert.equal(p.name, "proj");
  assert.deepEqual(p.unikraft.source, { type: "directory", path: join(dir, "vendor/unikraft") });
  assert.deepEqual(
    p.libraries.map((l: { name: string; source: unknown }) => [l.name, l.source]),
    [
      ["lwip", { type: "git", url: "https://github.com/unikraft/lib-lwip.git", version: "v0.17.0" }],
      ["musl", { type: "git", url: "https://example.org/musl.git", version: "1.2.3" }],
      ["nolibc", { type: "tarball", location: "https://example.org/nolibc-1.0.tar.gz" }],
    ],
  );
  assert.deepEqual(
    p.targets.map((x: { name: string; platform: string; architecture: string }) => [
      x.name,
      x.platform,
      x.architecture,
    ]),
    [
      ["dev", "firecracker", "arm64"],
      ["proj_qemu-x86_64", "qemu", "x86_64"],
    ],
  );
  // Quotes are shell quoting; `'${X}'` is still interpolated (X unset → "", with a warning).
  assert.deepEqual(p.cmd, ["/bin/server", "--name", "hello world", ""]);
  assert.deepEqual(p.env, { MODE: "prod", EMPTY: "" });
  assert.deepEqual(p.volumes, [
    { source: join(dir, "data"), destination: "/data", readonly: true },
    { source: "/srv", destination: "/srv", readonly: false, driver: "9pfs" },
  ]);
  assert.deepEqual(p.rootfs, { source: join(dir, "rootfs"), format: "erofs" });
  assert.deepEqual(p.extensions, { "x-note": { owner: "me" } });
  assert.match(r.stderr, /kraft\.yml:13:\d+: warning: variable `X` is not set; using an empty string/);
  assert.match(r.stderr, /kraft\.yml:26:1: warning: unknown key `colour` in the Kraftfile/);
});

test("kiln inspect: an invalid Kraftfile prints every error and exits 1", async () => {
  const file = join(BAD, "runtime-in-v05.Kraftfile");
  const r = await runKiln(["inspect", "-K", file]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^error: .*runtime-in-v05\.Kraftfile is not a valid Kraftfile: 2 errors\n/);
  assert.match(
    r.stderr,
    /runtime-in-v05\.Kraftfile:2:1: error: `unikraft` cannot be combined with `runtime`/,
  );
  assert.match(
    r.stderr,
    /runtime-in-v05\.Kraftfile:3:1: error: `runtime` needs Kraftfile spec v0\.6 or later/,
  );
  assert.doesNotMatch(r.stderr, /internal error/);
});

test("kiln validate: usage errors and a missing -K file", async () => {
  const missing = await runKiln(["validate", "-K", "no/such/Kraftfile"]);
  assert.equal(missing.code, 1);
  assert.match(
    missing.stderr,
    new RegExp(
      `^error: Kraftfile ${join(REPO_ROOT, "no/such/Kraftfile")} does not exist\nhint: check the path \\(-K is relative to the current directory\\)`,
    ),
  );
  const extra = await runKiln(["validate", "a", "b"]);
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /^error: too many arguments: b\n/);
  const help = await runKiln(["inspect", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /usage: kiln inspect \[DIR \| MACHINE\] \[-K FILE\] \[--json\]/);
});

test("kiln inspect --json: an invalid Kraftfile still prints one JSON document (validate's diagnostic shape)", async () => {
  const file = join(BAD, "runtime-in-v05.Kraftfile");
  const r = await runKiln(["inspect", "--json", "-K", file]);
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout) as {
    ok: boolean;
    file: string;
    diagnostics: {
      severity: string;
      code: string;
      file: string;
      line: number;
      col: number;
      message: string;
    }[];
  };
  assert.deepEqual(Object.keys(out), ["ok", "file", "diagnostics"]);
  assert.equal(out.ok, false);
  assert.equal(out.file, file);
  assert.deepEqual(
    out.diagnostics.map((d) => [d.severity, d.code, d.line, d.col]),
    [
      ["error", "conflicting-keys", 2, 1],
      ["error", "newer-key", 3, 1],
    ],
  );
  // The same diagnostics validate --json reports.
  const v = JSON.parse((await runKiln(["validate", "--json", "-K", file])).stdout) as {
    diagnostics: unknown;
  };
  assert.deepEqual(out.diagnostics, v.diagnostics);
  // People still get the readable errors on stderr.
  assert.match(r.stderr, /^error: .*runtime-in-v05\.Kraftfile is not a valid Kraftfile: 2 errors\n/);
});

test("validate --json and inspect --json: a missing directory or -K file is {ok: false, error}", async (t) => {
  const missing = join(scratchDir(t), "no-such-project");
  for (const args of [
    ["validate", "--json", missing],
    ["inspect", "--json", missing],
    ["validate", "--json", "-K", join(missing, "nope.yaml")],
    ["inspect", "--json", "-K", join(missing, "nope.yaml")],
  ]) {
    const r = await runKiln(args);
    assert.equal(r.code, 1, args.join(" "));
    const out = JSON.parse(r.stdout) as {
      ok: boolean;
      error: { code: string; message: string; hint: string };
    };
    assert.equal(out.ok, false);
    assert.equal(out.error.code, "KRAFTFILE_NOT_FOUND");
    assert.match(out.error.message, /does not exist/);
    assert.ok(out.error.hint.length > 0, `${args.join(" ")}: a hint`);
    assert.match(r.stderr, /^error: .*does not exist\nhint: /);
  }
  // A name that is neither a directory nor a machine: the error says both were looked for.
  const nameOnly = await runKiln(["inspect", "nosuch"], {
    cwd: scratchDir(t),
    env: { KILN_HOME: scratchDir(t) },
  });
  assert.equal(nameOnly.code, 1);
  assert.match(
    nameOnly.stderr,
    /^error: project directory \S+nosuch does not exist, and no machine is named nosuch\nhint: kiln ps -a lists machines/,
  );
});

test("kiln validate: a YAML syntax error at the end of the file shows the last line, a caret and a hint", async () => {
  const file = join(BAD, "flow-list-at-eof.Kraftfile");
  const r = await runKiln(["validate", "-K", file]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stdout,
    [
      `${file}:4:18: error: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]`,
      "4 | unikraft: [stable",
      "  |                  ^",
      "hint: a `[` list is not closed: end it with `]` on the same line, or write one `- item` per line",
      `${file}: 1 error`,
      "",
    ].join("\n"),
  );
  const tab = await runKiln(["validate", "-K", join(BAD, "tab-indent.Kraftfile")]);
  assert.match(tab.stdout, /\nhint: YAML forbids tabs for indentation: indent with spaces\n/);
});
