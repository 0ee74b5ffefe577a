/**
 * Registry credentials the way docker finds them (docker/cli
 * `cli/config/configfile/file.go` and `credentials/`): `$DOCKER_CONFIG/config.json`
 * or `~/.docker/config.json`; `credHelpers[host]` names a
 * `docker-credential-<helper>` program, else `credsStore` does for every
 * host, else `auths[host].auth` holds base64 `user:password` (or
 * `identitytoken`). A helper is asked with `get` and the server on stdin
 * and answers `{"Username":…,"Secret":…}`.
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { KilnError } from "../errors.js";
import { exec, which } from "../exec.js";

/** Credentials for one registry. */
export interface RegistryCredentials {
  username: string;
  password: string;
  /** Where they came from, for error messages (never the secret). */
  source: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** The keys docker files a registry's credentials under. */
export function dockerConfigKeys(registry: string): string[] {
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`];
}

/** Path of the Docker config file for an environment. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), ".docker"), "config.json");
}

/** Find credentials for `registry`, or undefined for anonymous access. */
export async function findCredentials(
  registry: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RegistryCredentials | undefined> {
  const path = dockerConfigPath(env);
  const text = await readFile(path, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  let config: DockerConfig;
  try {
    config = JSON.parse(text) as DockerConfig;
  } catch (e) {
    throw new KilnError("REGISTRY_CONFIG", `${path} is not valid JSON: ${(e as Error).message}`, {
      hint: "fix or remove the file (it is docker's credentials file)",
    });
  }
  const keys = dockerConfigKeys(registry);
  const helper = keys.map((k) => config.credHelpers?.[k]).find(Boolean) ?? config.credsStore;
  if (helper) {
    const fromHelper = await askHelper(helper, registry, env);
    if (fromHelper) return fromHelper;
  }
  for (const k of keys) {
    const a = config.auths?.[k];
    if (!a) continue;
    if (a.identitytoken) return { username: "<token>", password: a.identitytoken, source: path };
    if (a.auth) {
      const plain = Buffer.from(a.auth, "base64").toString("utf8");
      const i = plain.indexOf(":");
      if (i > 0) return { username: plain.slice(0, i), password: plain.slice(i + 1), source: path };
    }
    if (a.username && a.password) return { username: a.username, password: a.password, source: path };
  }
  return undefined;
}

async function askHelper(
  helper: string,
  registry: string,
  env: NodeJS.ProcessEnv,
): Promise<RegistryCredentials | undefined> {
  const tool = `docker-credential-${helper}`;
  // A helper named in the config but not installed: docker fails; Kiln falls back to `auths`.
  if (!which(tool, env.PATH ?? "")) return undefined;
  for (const server of [registry, `https://${registry}`]) {
    const r = await exec([tool, "get"], { input: server, allowFailure: true, env, timeoutMs: 30_000 });
    if (r.exitCode !== 0) continue;
    try {
      const { Username, Secret } = JSON.parse(r.stdout) as { Username?: string; Secret?: string };
      if (Secret) return { username: Username ?? "", password: Secret, source: tool };
    } catch {
      // not JSON: treat as no credentials
    }
  }
  return undefined;
}
