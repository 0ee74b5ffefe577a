/**
 * Kiln's Kconfig engine: parse a Kconfig tree (Linux, Unikraft), load and
 * write `.config` files exactly as Linux 6.1's scripts/kconfig/conf does, run
 * conf's operations, and explain values.
 */

export { readConfig, readConfigSimple, writeAutoconf, writeConfig, writeDefconfig } from "./confdata.js";
export { Evaluator } from "./eval.js";
export { formatWhy, type WhyFacts, why } from "./explain.js";
export { exprToString } from "./expr.js";
export {
  extractTarball,
  globSync,
  type LinuxTree,
  type OpenLinuxOptions,
  openLinuxTree,
  srcArchOf,
} from "./linux.js";
export {
  archDefconfigPath,
  type ConfigVerb,
  type LinuxConfigRequest,
  type LinuxConfigResult,
  loadLinuxKconfig,
  runLinuxConfig,
} from "./linux-config.js";
export type { MacroHost } from "./macro.js";
export { type DroppedValue, type MergeOverride, type MergeResult, mergeFragments } from "./merge.js";
export { allconfig, Config, defconfig, type Operation, olddefconfig, type UnmetDependency } from "./ops.js";
export { type KconfigHost, type ParseOptions, parseKconfig } from "./parser.js";
export { type SetReport, setValues } from "./set.js";
export type { Expr, KconfigDialect, KconfigTree, MenuNode, Sym, SymType, Tri } from "./types.js";
export {
  configSubmenu,
  openUnikraftTree,
  parseUnikraftKconfig,
  type SubmenuFs,
  type UnikraftTree,
  type UnikraftTreeOptions,
} from "./unikraft.js";
