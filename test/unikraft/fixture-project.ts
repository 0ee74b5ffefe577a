/**
 * Projects built against Kiln's fixture Unikraft core
 * (test/fixtures/unikraft-core): an application and libraries written into a
 * scratch directory, described as the `Project` the Kraftfile loader produces.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Project, Target } from "../../src/kraftfile/types.js";
import { REPO_ROOT } from "../helpers/kiln.js";

export const FIXTURE_CORE = join(REPO_ROOT, "test/fixtures/unikraft-core");

export const HELLO_MAIN = `int printf(const char *, ...);
void uk_banner(void);
int foo(void);
int main(void)
{
\tuk_banner();
\tprintf("Hello from fixture %d\\n", foo());
#ifdef CONFIG_LIBPOSIX_ENVIRON_ENVP0
\tprintf("env0=%s\\n", CONFIG_LIBPOSIX_ENVIRON_ENVP0);
#endif
\treturn 0;
}
`;

export function target(
  name: string,
  platform: Target["platform"],
  architecture: Target["architecture"],
  kconfig = {},
): Target {
  return { name, platform, architecture, kconfig };
}

/** Write an app (`main.c`) and a library `foo` into `root`; return the project. */
export function fixtureProject(root: string, over: Partial<Project> = {}, mainC = HELLO_MAIN): Project {
  const app = join(root, "app");
  const lib = join(root, "lib-foo");
  mkdirSync(app, { recursive: true });
  mkdirSync(lib, { recursive: true });
  writeFileSync(join(app, "main.c"), mainC);
  writeFileSync(join(lib, "foo.c"), "int foo(void) { return 42; }\n");
  writeFileSync(join(lib, "Config.uk"), 'config LIBFOO\n\tbool "foo: the answer"\n');
  const name = over.name ?? "hello";
  return {
    file: join(app, "Kraftfile"),
    dir: app,
    specification: "0.6",
    name,
    outdir: join(app, ".unikraft", "build"),
    unikraft: { name: "unikraft", source: { type: "directory", path: FIXTURE_CORE }, kconfig: {} },
    cmd: [],
    env: {},
    labels: {},
    volumes: [],
    targets: [target(`${name}_qemu-x86_64`, "qemu", "x86_64")],
    libraries: [{ name: "foo", source: { type: "directory", path: lib }, kconfig: { CONFIG_LIBFOO: "y" } }],
    extensions: {},
    ...over,
  };
}

/** The parts of a fixture project's Kraftfile that tests vary; each a list of YAML lines. */
export interface FixtureKraftfileParts {
  /** Lines under `unikraft: kconfig:` (none: no kconfig key). */
  core?: string[];
  /** Lines under library `foo`'s `kconfig:` (none: no kconfig key). */
  lib?: string[];
  /** Target entries, each as written after `- `. */
  targets?: string[];
}

/**
 * {@link fixtureProject} with its Kraftfile written out as a user would
 * (comments and layout included, for tests of lines and of saving); returns
 * the project directory.
 */
export function writeFixtureKraftfile(root: string, parts: FixtureKraftfileParts = {}): string {
  const p = fixtureProject(root);
  const lines = ["spec: v0.6", "name: hello", "unikraft:", `  source: ${FIXTURE_CORE}`];
  if (parts.core) lines.push("  kconfig:", ...parts.core.map((l) => `    ${l}`));
  lines.push("libraries:", "  foo:", `    source: ${join(root, "lib-foo")}`);
  if (parts.lib) lines.push("    kconfig:", ...parts.lib.map((l) => `      ${l}`));
  lines.push("targets:", ...(parts.targets ?? ["qemu/x86_64", "fc/x86_64"]).map((t) => `  - ${t}`), "");
  writeFileSync(p.file, lines.join("\n"));
  return p.dir;
}
