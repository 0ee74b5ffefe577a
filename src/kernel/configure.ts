/**
 * Configuring a kernel tree: the small interface the kernel build uses
 * (`configureKernel(tree, arch, {base, fragments}) → {dotconfig, report}`)
 * and its implementation with the kernel's own C tools, as
 * scripts/kconfig/merge_config.sh does it: the inputs are merged in order
 * (each override reported), then either `make allnoconfig
 * KCONFIG_ALLCONFIG=<merged>` (the baseline: merge_config.sh -n) or the
 * full `.config` plus fragments completed by `make olddefconfig`. Every
 * requested value is then checked in the final `.config`; one that did not
 * survive stops the build, naming the option and its unmet dependencies.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KilnError } from "../core/errors.js";
import { exec } from "../core/exec.js";
import { baselineFragment } from "./baseline.js";
import {
  type Assignment,
  configValues,
  mergeAssignments,
  parseAssignments,
  renderAssignments,
  unsetRequests,
} from "./fragment.js";
import { type KernelLog, planKernelMake } from "./make.js";
import type { ConfigBase, ConfigureResult, Fragment, KernelArch } from "./types.js";
import { explainOff } from "./why.js";

/** What to configure. */
export interface KernelConfigRequest {
  base: ConfigBase;
  fragments: Fragment[];
}

/** Where and how. */
export interface ConfigureContext {
  treeDir: string;
  buildDir: string;
  crossCompile?: string;
  log: KernelLog;
  env?: NodeJS.ProcessEnv;
}

/**
 * A configuration engine: writes `ctx.buildDir/.config` for the request and
 * returns it with the overrides, or throws KERNEL_OPTION_UNSET when a
 * requested value did not survive. {@link configureWithMake} is the kernel's
 * own C tools; callers may pass another (Kiln's Kconfig engine).
 */
export type KernelConfigurator = (
  arch: KernelArch,
  req: KernelConfigRequest,
  ctx: ConfigureContext,
) => Promise<ConfigureResult>;

/** KERNEL_OPTION_UNSET for requested values that did not survive, each with why (pure). */
export function unsetError(unset: ConfigureResult["unset"], why: Map<string, string>): KilnError {
  return new KilnError(
    "KERNEL_OPTION_UNSET",
    `${unset.length} requested option${unset.length === 1 ? "" : "s"} cannot be set: ${unset.map((u) => `CONFIG_${u.option}`).join(", ")}`,
    {
      details: unset.map(
        (u) =>
          `CONFIG_${u.option}=${u.requested} (${u.source}) ended as ${u.actual}: ${why.get(u.option) ?? ""}`,
      ),
      hint: "turn on the dependencies named above in a fragment (--fragment FILE), or drop the request",
    },
  );
}

/** The inputs merged in order, and the options whose values are requested (pure). */
export function mergeRequest(
  arch: KernelArch,
  req: KernelConfigRequest,
): {
  requested: Map<string, Assignment>;
  merged: Map<string, Assignment>;
  overrides: ConfigureResult["overrides"];
} {
  const baseParts =
    req.base.kind === "baseline"
      ? [parseAssignments(baselineFragment(arch), "baseline")]
      : [parseAssignments(req.base.text, req.base.path)];
  const fragParts = req.fragments.map((f) => parseAssignments(f.text, f.path));
  const { merged, overrides } = mergeAssignments([...baseParts, ...fragParts]);
  // A full .config's own values are a starting point olddefconfig may adjust
  // (as `make olddefconfig` does with Firecracker's config on a newer 6.1);
  // the baseline's and the fragments' values are requests that must hold.
  const requested = req.base.kind === "baseline" ? merged : mergeAssignments(fragParts).merged;
  return { requested, merged, overrides };
}

/** Configure `ctx.buildDir/.config` with the kernel's C tools (see the module comment). */
export async function configureWithMake(
  arch: KernelArch,
  req: KernelConfigRequest,
  ctx: ConfigureContext,
): Promise<ConfigureResult> {
  const { requested, merged, overrides } = mergeRequest(arch, req);
  const base = {
    treeDir: ctx.treeDir,
    buildDir: ctx.buildDir,
    arch,
    ...(ctx.crossCompile ? { crossCompile: ctx.crossCompile } : {}),
  };
  let argv: string[];
  if (req.base.kind === "baseline") {
    const fragmentPath = join(ctx.buildDir, "kiln-fragment.config");
    await writeFile(fragmentPath, renderAssignments(merged));
    argv = planKernelMake({ ...base, goals: ["allnoconfig"], vars: { KCONFIG_ALLCONFIG: fragmentPath } });
  } else {
    // The fragments' values are appended: the last assignment in a .config wins in conf.
    const fragTexts = req.fragments.map((f) => renderAssignments(parseAssignments(f.text, f.path)));
    await writeFile(join(ctx.buildDir, ".config"), [req.base.text, ...fragTexts].join("\n"));
    argv = planKernelMake({ ...base, goals: ["olddefconfig"] });
  }
  ctx.log.write(`$ ${argv.join(" ")}\n`);
  const r = await exec(argv, { env: ctx.env, allowFailure: true });
  ctx.log.write(r.stdout + r.stderr);
  if (r.exitCode !== 0) {
    throw new KilnError(
      "KERNEL_CONFIG_FAILED",
      `configuring the kernel failed: make ${argv.at(-1)} exited with ${r.exitCode}`,
      {
        details: [
          ...r.stderr
            .trim()
            .split("\n")
            .slice(-8)
            .map((l) => `  | ${l}`),
          `full log: ${ctx.log.path}`,
        ],
        hint: `read the full log: ${ctx.log.path}`,
      },
    );
  }
  const dotconfig = await readFile(join(ctx.buildDir, ".config"), "utf8");
  const unset = unsetRequests(requested, dotconfig);
  if (unset.length > 0) {
    const why = await explainOff(
      ctx.treeDir,
      unset.map((u) => u.option),
      configValues(dotconfig),
      arch,
    );
    throw unsetError(unset, why);
  }
  return {
    dotconfig,
    overrides,
    unset,
    engine: "kernel make (allnoconfig/olddefconfig with KCONFIG_ALLCONFIG)",
  };
}
