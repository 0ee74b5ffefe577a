/**
 * Where the core and libraries of a project are on disk for make: a
 * directory source is used in place; anything else lives where KraftKit puts
 * it (`.unikraft/unikraft`, `.unikraft/libs/<name>`), fetched there by
 * `kiln fetch` or by `kiln build` before it configures.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { KilnError } from "../core/errors.js";
import type { Reporter } from "../core/output.js";
import type { Component, Project } from "../kraftfile/types.js";
import { fetchProjectSources } from "./sources/index.js";

export interface ProjectSourceDirs {
  core: string;
  /** In the Kraftfile's order (make's `L=`). */
  libraries: string[];
}

export interface SourceDirOptions {
  /** Fetch sources first (default true). */
  fetch?: boolean;
  offline?: boolean;
  mirrors?: string[];
  env?: NodeJS.ProcessEnv;
  reporter?: Reporter;
  signal?: AbortSignal;
}

/** The directory a component occupies inside the project when not used in place. */
export function componentDir(project: Project, c: Component, role: "core" | "library"): string {
  if (c.source.type === "directory") return c.source.path;
  return role === "core"
    ? join(project.dir, ".unikraft", "unikraft")
    : join(project.dir, ".unikraft", "libs", c.name);
}

/** Resolve (and unless `fetch: false`, fetch) the project's source directories. */
export async function projectSourceDirs(
  project: Project,
  opts: SourceDirOptions = {},
): Promise<ProjectSourceDirs> {
  const core = project.unikraft;
  if (!core) throw new KilnError("BUILD_NO_CORE", `${project.file} has no unikraft: core`);
  if (opts.fetch !== false) {
    const f = await fetchProjectSources(project, {
      ...(opts.offline !== undefined ? { offline: opts.offline } : {}),
      ...(opts.mirrors ? { mirrors: opts.mirrors } : {}),
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.reporter ? { reporter: opts.reporter } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return { core: f.core.dir, libraries: f.libraries.map((l) => l.dir) };
  }
  const dirs = {
    core: componentDir(project, core, "core"),
    libraries: project.libraries.map((l) => componentDir(project, l, "library")),
  };
  const missing = [
    { name: "unikraft", dir: dirs.core },
    ...project.libraries.map((l, i) => ({ name: `lib-${l.name}`, dir: dirs.libraries[i]! })),
  ].filter((m) => !existsSync(m.dir));
  if (missing.length > 0) {
    throw new KilnError("SOURCES_MISSING", `sources not present: ${missing.map((m) => m.name).join(", ")}`, {
      details: missing.map((m) => `  ${m.name}: ${m.dir}`),
      hint: opts.fetch === false ? "run kiln fetch, or drop --no-fetch" : "run kiln fetch",
    });
  }
  return dirs;
}
