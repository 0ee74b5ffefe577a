/**
 * The seam through which `kiln build` configures a target without make:
 * src/orchestration plugs Kiln's Kconfig engine in here, so this domain does
 * not import it.
 */
import type { Reporter } from "../core/output.js";
import type { Project, Target } from "../kraftfile/types.js";
import type { KconfigPlan, MissingOption } from "./config.js";
import type { ProjectSourceDirs } from "./source-dirs.js";

/** What a {@link TargetConfigurer} is asked to configure. */
export interface ConfigureRequest {
  project: Project;
  target: Target;
  dirs: ProjectSourceDirs;
  /** The target's build directory (make's `O=`). */
  buildDir: string;
  /** The `.config` to write (make's `C=`). */
  configFile: string;
  /** The planned options, in the defconfig's order. */
  plan: KconfigPlan;
  /** The defconfig text make would be given as `UK_DEFCONFIG`. */
  defconfig: string;
  /** Write `configFile` (false: only explain `missing` for a `.config` written earlier). */
  write: boolean;
  /** Requested options missing from the `.config` (only when `write` is false). */
  missing: MissingOption[];
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
}

/** What a {@link TargetConfigurer} did. */
export interface ConfigureOutcome {
  /** Requested options that did not survive, each with its reason (from Kconfig's `why`). */
  dropped: (MissingOption & { reason: string })[];
}

/**
 * Configures a target without make (Kiln's Kconfig engine; composed in
 * src/orchestration so this domain stays free of it). Undefined means it
 * cannot handle this tree: the build falls back to `make defconfig`.
 */
export type TargetConfigurer = (req: ConfigureRequest) => Promise<ConfigureOutcome | undefined>;
