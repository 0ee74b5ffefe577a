/**
 * The composition layer as a library (`kiln-vm/orchestration`): what joins
 * the domains for a project target — the Kconfig engine on a Kraftfile's core,
 * libraries and target, and `kiln build` configuring through it; `kiln run`'s
 * plan from flags and a project's built target. Domains never
 * import this; it imports them.
 */

export * from "./project-run.js";
export * from "./run-plan.js";
export {
  buildProjectWithEngine,
  configureFromPlan,
  type DroppedOption,
  droppedOptions,
  openTargetKconfig,
  type TargetKconfig,
  type TargetKconfigOptions,
} from "./unikraft-config.js";
