/**
 * The plan `kiln run` hands to the machine domain: a checked spec, its
 * driver, and how to watch the run. Made by orchestration/run-plan.ts from
 * the flags and the project; launched by launch.ts and foreground.ts.
 */
import type { MachineSpec, VmmDriver } from "./driver.js";
import type { WaitForPattern } from "./wait-pattern.js";

/** A checked run: the spec to launch and how to watch it. */
export interface RunPlan {
  base: Omit<MachineSpec, "name">;
  driver: VmmDriver;
  /** Platform shown by `kiln ps`. */
  platform: string;
  /** `--initrd DIR`: packed to CPIO in the instance directory at launch. */
  initrdDir?: string;
  /** `--rootfs DIR` for a Linux guest: an ext4 image built from it in the instance directory at launch. */
  rootfsDir?: string;
  waitFor?: WaitForPattern;
  timeoutMs?: number;
  detach: boolean;
  /** Things the user should know before the machine starts (printed as warnings). */
  warnings: string[];
}
