/**
 * Configuring kernels with Kiln's own Kconfig engine (`src/kconfig/`): the
 * adapter from the kernel domain's configuration interface
 * ({@link KernelConfigurator}) to the engine. It lives here, in the layer
 * that composes domains, so `kernel/` and `kconfig/` stay independent.
 *
 * Same semantics as the C-tools path: the baseline (or a full `.config`)
 * and the fragments are merged in order with every override reported, the
 * baseline seeds `allnoconfig` as KCONFIG_ALLCONFIG, a full `.config` goes
 * through `olddefconfig`; each requested value is then checked and one that
 * did not survive stops the build with the engine's `why`.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { explainDrop } from "../../kconfig/drop.js";
import { loadLinuxKconfig } from "../../kconfig/linux-config.js";
import { allconfig, olddefconfig } from "../../kconfig/ops.js";
import { type KernelConfigurator, mergeRequest, unsetError } from "../../kernel/configure.js";
import { parseAssignments, renderAssignments, unsetRequests } from "../../kernel/fragment.js";
import { ARCH_FACTS } from "../../kernel/types.js";

/** The Kconfig engine as a kernel configurator. */
export const configureWithEngine: KernelConfigurator = async (arch, req, ctx) => {
  const { requested, merged, overrides } = mergeRequest(arch, req);
  const started = Date.now();
  const { lt, tree } = loadLinuxKconfig(ctx.treeDir, ARCH_FACTS[arch].makeArch, {
    ...(ctx.crossCompile !== undefined ? { crossCompile: ctx.crossCompile } : {}),
  });
  let config: ReturnType<typeof olddefconfig>;
  if (req.base.kind === "baseline") {
    config = allconfig(tree, "no", renderAssignments(merged));
  } else {
    // The fragments' values after the full .config's: the last assignment wins, as in conf.
    const fragTexts = req.fragments.map((f) => renderAssignments(parseAssignments(f.text, f.path)));
    config = olddefconfig(tree, [req.base.text, ...fragTexts].join("\n"));
  }
  const dotconfig = config.dotconfig();
  ctx.log.write(
    `kiln: configured with Kiln's Kconfig engine (${lt.srcarch}, ${req.base.kind}) in ${Date.now() - started} ms\n`,
  );
  await writeFile(join(ctx.buildDir, ".config"), dotconfig);
  const unset = unsetRequests(requested, dotconfig);
  if (unset.length > 0) {
    const why = new Map(
      unset.map((u) => [
        u.option,
        explainDrop(
          config,
          u.option,
          u.requested === "n" ? `# CONFIG_${u.option} is not set` : `CONFIG_${u.option}=${u.requested}`,
        ),
      ]),
    );
    throw unsetError(unset, why);
  }
  return { dotconfig, overrides, unset, engine: "Kiln's Kconfig engine" };
};

/**
 * The configurator Kiln uses: its own engine, unless `KILN_KCONFIG_ENGINE=make`
 * asks for the kernel's C tools (to compare, or for a tree the engine cannot read).
 */
export function chosenConfigurator(env: NodeJS.ProcessEnv = process.env): KernelConfigurator | undefined {
  return env.KILN_KCONFIG_ENGINE === "make" ? undefined : configureWithEngine;
}
