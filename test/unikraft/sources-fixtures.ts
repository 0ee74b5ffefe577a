/**
 * Fixtures for the sources tests: real local git repositories standing in
 * for the Unikraft core and libraries (release tags, a staging branch,
 * commits), and minimal projects pointing at them.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Component, ComponentSource, Project } from "../../src/kraftfile/types.js";

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "Kiln Test",
  GIT_AUTHOR_EMAIL: "test@kiln.invalid",
  GIT_COMMITTER_NAME: "Kiln Test",
  GIT_COMMITTER_EMAIL: "test@kiln.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
  HOME: "/nonexistent",
};

/** Run git in `cwd`, returning trimmed stdout. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    env: GIT_ENV,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

/** Commit `files` (name → content) on the current branch; returns the commit id. */
export function commit(repo: string, files: Record<string, string>, message = "change"): string {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(repo, name, ".."), { recursive: true });
    writeFileSync(join(repo, name), content);
  }
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", message);
  return git(repo, "rev-parse", "HEAD");
}

export interface RepoHistory {
  /** Releases in order; each gets a commit writing VERSION=<tag> and an annotated tag. */
  releases: string[];
  /** Extra files in every commit (e.g. a Makefile.uk). */
  files?: Record<string, string>;
  /** A staging branch one commit ahead of the last release. */
  staging?: boolean;
}

/**
 * A git repository at `dir` with a commit per release tag (the file VERSION
 * says which), `main` at the newest release and optionally `staging` ahead.
 * Returns tag → commit.
 */
export function makeRepo(dir: string, history: RepoHistory): Map<string, string> {
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  const commits = new Map<string, string>();
  for (const tag of history.releases) {
    commits.set(tag, commit(dir, { VERSION: `${tag}\n`, ...history.files }, tag));
    git(dir, "tag", "-a", "-m", tag, tag);
  }
  if (history.staging) {
    git(dir, "checkout", "-q", "-b", "staging");
    commits.set("staging", commit(dir, { VERSION: "staging\n" }, "staging work"));
    git(dir, "checkout", "-q", "main");
  }
  return commits;
}

function component(name: string, source: ComponentSource): Component {
  return { name, source, kconfig: {} };
}

/** A git source. */
export function gitSource(url: string, version: string): ComponentSource {
  return { type: "git", url, version };
}

/** A minimal project in `dir` with the given core and libraries. */
export function makeProject(
  dir: string,
  core: ComponentSource,
  libraries: Record<string, ComponentSource> = {},
): Project {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "Kraftfile"), "spec: v0.6\nname: app\nunikraft: stable\n");
  return {
    file: join(dir, "Kraftfile"),
    dir,
    specification: "0.6",
    name: "app",
    outdir: join(dir, ".unikraft", "build"),
    unikraft: component("unikraft", core),
    cmd: [],
    env: {},
    labels: {},
    volumes: [],
    targets: [{ name: "app_qemu-x86_64", platform: "qemu", architecture: "x86_64", kconfig: {} }],
    libraries: Object.entries(libraries).map(([n, s]) => component(n, s)),
    extensions: {},
  };
}

/** An environment whose cache and config live under `home` (no mirrors from the host). */
export function isolatedEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, KILN_HOME: home };
  delete env.KILN_MIRRORS;
  return env;
}
