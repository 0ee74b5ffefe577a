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
