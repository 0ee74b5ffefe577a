/**
 * `kiln menu` on a project target: the menu model (src/kconfig/menu) on the
 * target's Kconfig tree and configuration, entries the Kraftfile sets marked
 * with where (core, a library, the target; the line), saving to the
 * target's `.config.<target>` and, on request, the entries changed in the
 * session into the Kraftfile's `kconfig:` (src/orchestration/target-config.ts
 * `saveToKraftfile`).
 */
import { existsSync } from "node:fs";
import { basename } from "node:path";
import { MenuState } from "../kconfig/menu/state.js";
import { loadProject } from "../kraftfile/load.js";
import type { Project, Target } from "../kraftfile/types.js";
import { planKconfig } from "../unikraft/config.js";
import { currentConfig, provenance, saveToKraftfile } from "./target-config.js";
import {
  kraftfileEntries,
  openTargetKconfig,
  type TargetKconfig,
  type TargetKconfigOptions,
  writeDotConfig,
} from "./unikraft-config.js";

/** An open target menu. */
export interface TargetMenuSession {
  state: MenuState;
  tk: TargetKconfig;
  /** Writes the target's `.config`; returns the status message. */
  save(): Promise<string>;
  /** Writes the `.config` and the entries changed in this session into the Kraftfile. */
  saveKraftfile(): Promise<string>;
}

/** Opens a target's menu: its `.config` if there is one, else what `kiln build` would write. */
export async function openTargetMenu(
  project: Project,
  target: Target,
  opts: TargetKconfigOptions = {},
): Promise<TargetMenuSession> {
  const tk = await openTargetKconfig(project, target, opts);
  const entries = await kraftfileEntries(project);
  const existed = existsSync(tk.configFile);
  const cfg = currentConfig(tk);
  const marks = new Map<string, string>();
  markProvenance(tk, entries, marks);
  const label = basename(tk.configFile);
  const state = new MenuState(cfg, `${label} - ${tk.tree.root.prompt?.text ?? "Kconfig"}`, marks);
  state.kraftfileSave = true;
  if (!existed) {
    // as kiln build would configure it: not on disk yet, so leaving asks to save
    state.dirty = true;
    state.message = `${label} does not exist yet: starting from the Kraftfile's options`;
  }
  const save = async () => {
    await writeDotConfig(tk.configFile, cfg.dotconfig());
    return `Configuration saved to ${label}`;
  };
  return {
    state,
    tk,
    save,
    async saveKraftfile() {
      const values: Record<string, string> = {};
      for (const name of state.userSet) values[name] = cfg.ev.stringValue(cfg.tree.syms.get(name)!);
      const applied = Object.entries(values).map(([symbol, value]) => ({ symbol, value }));
      // the Kraftfile entries are written from the same configuration (nothing re-evaluated)
      const saved = await saveToKraftfile(tk, cfg, await kraftfileEntries(project), values, {
        applied,
        refused: [],
        changes: [],
      });
      await save();
      state.userSet.clear();
      // the entries just written are the Kraftfile's now: mark them (and renumber the lines)
      const reread = await loadProject(project.file, { env: opts.env ?? process.env }).catch(() => undefined);
      const t2 = reread?.project.targets.find((x) => x.name === target.name);
      if (reread && t2) {
        const plan = planKconfig(reread.project, t2, tk.coreVersion ? { coreVersion: tk.coreVersion } : {});
        markProvenance(
          { ...tk, project: reread.project, target: t2, plan },
          await kraftfileEntries(reread.project),
          marks,
        );
      }
      const n = saved.reduce((k, s) => k + Object.keys(s.entries).length, 0);
      return `Saved ${label} and ${n} entr${n === 1 ? "y" : "ies"} into ${basename(project.file)}`;
    },
  };
}

/** Fills `marks` (symbol → `Kraftfile:LINE (scope)`) with the symbols the Kraftfile plan sets. */
function markProvenance(
  tk: TargetKconfig,
  entries: Awaited<ReturnType<typeof kraftfileEntries>>,
  marks: Map<string, string>,
): void {
  marks.clear();
  for (const name of Object.keys(tk.plan.options)) {
    const p = provenance(tk, entries, name);
    if (p)
      marks.set(
        name.replace(/^CONFIG_/, ""),
        `${p.line !== undefined ? `Kraftfile:${p.line} ` : ""}(${p.origin})`,
      );
  }
}
