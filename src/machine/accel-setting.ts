/**
 * The acceleration a run asks for when the command line does not say: pinned
 * for a whole session or CI by `KILN_ACCEL=tcg|kvm|auto`, or for a user by
 * `accel:` in `<configDir>/config.yaml`; default `auto` (KVM when the probe's
 * guest runs under it, else TCG). `-W` on the command line wins over both.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { errnoCode, KilnError } from "../core/errors.js";
import { kilnDirs } from "../core/paths.js";
import type { AccelRequest } from "./driver.js";

const VALUES: readonly AccelRequest[] = ["auto", "kvm", "tcg"];

/** The setting and where it came from (for messages and `kiln doctor`). */
export interface AccelSetting {
  request: AccelRequest;
  source: "default" | "KILN_ACCEL" | string;
}

function check(value: unknown, source: string): AccelRequest {
  if (typeof value === "string" && (VALUES as readonly string[]).includes(value.trim().toLowerCase()))
    return value.trim().toLowerCase() as AccelRequest;
  throw new KilnError(
    "CONFIG_INVALID",
    `${source} must be one of ${VALUES.join(", ")}; got ${JSON.stringify(value)}`,
    { hint: "tcg: always emulate (what -W does); kvm: require KVM; auto: KVM when it works, else TCG" },
  );
}

/**
 * The accel setting from the environment and the config file's text (pure).
 * Throws `CONFIG_INVALID` naming the bad value and where it was found. The
 * YAML parser comes with the text: `yaml` (~260 KB) is loaded only when
 * there is a config file to read, not on every `kiln run`'s path to QEMU.
 */
export function accelSettingFrom(
  env: NodeJS.ProcessEnv,
  config?: { text: string; file: string; parse: (text: string) => unknown },
): AccelSetting {
  const fromEnv = env.KILN_ACCEL;
  if (fromEnv !== undefined && fromEnv !== "")
    return { request: check(fromEnv, "KILN_ACCEL"), source: "KILN_ACCEL" };
  if (config !== undefined) {
    const configFile = config.file;
    let doc: unknown;
    try {
      doc = config.parse(config.text);
    } catch (e) {
      throw new KilnError("CONFIG_INVALID", `${configFile} is not valid YAML: ${(e as Error).message}`, {
        cause: e,
      });
    }
    const value = (doc as { accel?: unknown } | null)?.accel;
    if (value !== undefined && value !== null)
      return { request: check(value, `"accel" in ${configFile}`), source: configFile };
  }
  return { request: "auto", source: "default" };
}

/** {@link accelSettingFrom} with the config file read from Kiln's config directory. */
export async function readAccelSetting(env: NodeJS.ProcessEnv = process.env): Promise<AccelSetting> {
  if (env.KILN_ACCEL) return accelSettingFrom(env);
  const file = join(kilnDirs(env).configDir, "config.yaml");
  let text: string | undefined;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if (errnoCode(e) !== "ENOENT") throw e;
  }
  if (text === undefined) return accelSettingFrom(env);
  const { parse } = await import("yaml");
  return accelSettingFrom(env, { text, file, parse });
}
