/**
 * Where Kiln keeps things, per the XDG Base Directory specification:
 * state (instances) under `$XDG_STATE_HOME/kiln`, caches (sources, kernels)
 * under `$XDG_CACHE_HOME/kiln`, configuration under `$XDG_CONFIG_HOME/kiln`,
 * data the user made and keeps (packages) under `$XDG_DATA_HOME/kiln`.
 * `KILN_HOME` overrides all three (one directory, used by tests).
 */
import { homedir } from "node:os";
import { join } from "node:path";

function xdg(envVar: string, fallback: string, env: NodeJS.ProcessEnv): string {
  const v = env[envVar];
  return v?.startsWith("/") ? v : join(homedir(), fallback);
}

export interface KilnDirs {
  stateDir: string;
  cacheDir: string;
  configDir: string;
  dataDir: string;
}

/** Kiln's directories for the given environment. */
export function kilnDirs(env: NodeJS.ProcessEnv = process.env): KilnDirs {
  const home = env.KILN_HOME;
  if (home) {
    return {
      stateDir: join(home, "state"),
      cacheDir: join(home, "cache"),
      configDir: join(home, "config"),
      dataDir: join(home, "data"),
    };
  }
  return {
    stateDir: join(xdg("XDG_STATE_HOME", ".local/state", env), "kiln"),
    cacheDir: join(xdg("XDG_CACHE_HOME", ".cache", env), "kiln"),
    configDir: join(xdg("XDG_CONFIG_HOME", ".config", env), "kiln"),
    dataDir: join(xdg("XDG_DATA_HOME", ".local/share", env), "kiln"),
  };
}
