/**
 * Fitting a run to what a Unikraft image was configured to do (facts from
 * its `.config`, see `unikraft-image.ts`). Pure: a plan in, the adjusted
 * volumes and network and the warnings out.
 */
import type { NetworkMode, VolumeSpec } from "./driver.js";
import type { UnikraftImageFacts } from "./unikraft-image.js";

export interface UnikraftRunFit {
  volumes: VolumeSpec[];
  network: NetworkMode;
  warnings: string[];
}

/**
 * - A volume at a path the image mounts itself over 9p (its root, `fs1` in
 *   app-sqlite's 9pfs target) gets the tag the image looks for, and no
 *   `vfs.fstab` entry; a tag the user chose is kept (and warned about when
 *   it differs).
 * - Other volumes get `fs0`, `fs1`, … skipping tags already in use, and a
 *   warning when the image reads no `vfs.fstab`.
 * - A 9p mount the image makes with no volume for it is warned about: the
 *   guest fails with `Failed to mount fs1 (9pfs) at /`.
 * - No virtio NIC unless the image has a network stack or ports are
 *   published (`networkGiven`: the user asked for a network explicitly).
 */
export function fitUnikraftRun(
  volumes: readonly VolumeSpec[],
  facts: UnikraftImageFacts,
  opts: { network: NetworkMode; networkGiven: boolean; portCount: number; configPath: string },
): UnikraftRunFit {
  const warnings: string[] = [];
  const out: VolumeSpec[] = volumes.map((v) => {
    const auto = facts.automounts9p.find((a) => a.guestPath === v.guestPath);
    if (!auto) return { ...v };
    if (v.tagGiven && v.tag !== auto.tag) {
      warnings.push(
        `the image mounts ${auto.guestPath} itself from 9p tag "${auto.tag}" (${opts.configPath}); -v gives tag "${v.tag}", so it must also be listed in vfs.fstab`,
      );
      return { ...v };
    }
    return { ...v, tag: auto.tag, automounted: true };
  });
  const taken = new Set(out.filter((v) => v.automounted || v.tagGiven).map((v) => v.tag));
  let n = 0;
  for (const v of out) {
    if (v.automounted || v.tagGiven) continue;
    while (taken.has(`fs${n}`)) n++;
    v.tag = `fs${n}`;
    taken.add(v.tag);
  }
  const listed = out.filter((v) => !v.automounted);
  if (listed.length > 0 && !facts.fstab) {
    warnings.push(
      `the image reads no vfs.fstab (neither CONFIG_LIBVFSCORE_FSTAB nor CONFIG_LIBVFSCORE_AUTOMOUNT_UP in ${opts.configPath}): ${listed.map((v) => v.guestPath).join(", ")} will not be mounted`,
    );
  }
  for (const a of facts.automounts9p) {
    if (!out.some((v) => v.guestPath === a.guestPath)) {
      warnings.push(
        `the image mounts ${a.guestPath} from 9p tag "${a.tag}" at boot (${opts.configPath}) and no -v gives it one: it will fail to mount; add -v DIR:${a.guestPath}`,
      );
    }
  }
  const wantsNic = facts.network || opts.portCount > 0 || opts.networkGiven;
  return { volumes: out, network: wantsNic ? opts.network : "none", warnings };
}
