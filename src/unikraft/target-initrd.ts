/**
 * A spec v0.5 target's `initrd:` packed at build time, as KraftKit's
 * v0.5-era `kraft build` did (`initrd.InitrdConfig`: each `input` is a
 * `host:archive` pair, a directory whose content goes under `archive` or a
 * file placed at `archive`; all of them in one newc CPIO, gzip-compressed
 * when `compress` is set).
 *
 * Like the project `rootfs:` initrd (`publish.ts` `packInitrd`), the archive
 * is repacked only when something it is made from is newer than it: an
 * input (directories count through every entry, so an added or removed file
 * counts) or the Kraftfile (which says what goes in and whether to compress).
 */
import { lstat, mkdir, readdir, stat, utimes } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { errnoCode, KilnError } from "../core/errors.js";
import type { Reporter } from "../core/output.js";
import type { CpioEntry } from "../image/cpio/index.js";
import type { InitrdInput, Project, Target, TargetInitrd } from "../kraftfile/types.js";

/** What packing a target's initrd produced (or found up to date). */
export interface PackedInitrd {
  initrd: string;
  initrdSizeBytes: number;
}

/**
 * Check that every `initrd.input` of `target` exists and is a file or a
 * directory, and create the directory the archive goes in. Run before make,
 * so a typo in the Kraftfile is reported before a long compile rather than
 * after it, and so the output directory already exists when the build's
 * fingerprint is taken (a directory appearing later would count as a change).
 */
export async function checkTargetInitrd(target: Target, output: string): Promise<void> {
  if (!target.initrd) return;
  for (const input of target.initrd.inputs) await inputKind(target, input);
  await mkdir(dirname(output), { recursive: true });
}

async function inputKind(target: Target, input: InitrdInput): Promise<"dir" | "file"> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    // A top-level input is followed if it is a symlink: it names what to pack.
    st = await stat(input.source);
  } catch (e) {
    throw new KilnError(
      "BUILD_INITRD_INPUT_MISSING",
      `initrd input ${input.source} of target ${target.name} does not exist (${errnoCode(e) ?? String(e)})`,
      {
        cause: e,
        hint: "fix `initrd.input` in the Kraftfile (relative paths are from the Kraftfile's directory)",
      },
    );
  }
  if (st.isDirectory()) return "dir";
  if (st.isFile()) return "file";
  throw new KilnError(
    "BUILD_INITRD_INPUT_INVALID",
    `initrd input ${input.source} of target ${target.name} must be a directory or a regular file`,
    { hint: "list a directory (its content goes under the destination) or a file" },
  );
}

/**
 * Pack `target.initrd` into `output` (atomically), unless `output` is
 * already newer than every input and the Kraftfile. Warns that Unikraft's
 * `ukcpio` reads only plain newc when `compress` is set, but compresses as
 * asked: the archive may be meant for something else that unpacks it.
 */
export async function packTargetInitrd(
  project: Project,
  target: Target,
  output: string,
  reporter: Reporter,
): Promise<PackedInitrd | undefined> {
  const spec = target.initrd;
  if (!spec) return undefined;
  if (spec.compress) {
    // lib/ukcpio/cpio.c checks each header for the "070701" newc magic and
    // fails on anything else; there is no gzip support in the loader.
    reporter.warn(
      `${target.name}: initrd compress is set, but Unikraft's ukcpio reads only plain newc CPIO; ${output} is gzip-compressed as asked`,
    );
  }
  const packed = await stat(output).catch(() => undefined);
  const out = resolve(output);
  const tmpPrefix = join(dirname(out), `.${basename(out)}.kiln-tmp-`);
  const skip = (abs: string) => abs === out || abs.startsWith(tmpPrefix);
  if (packed && packed.mtimeMs >= (await newestInputMtimeMs(project, spec, skip))) {
    return { initrd: output, initrdSizeBytes: packed.size };
  }
  // Loaded here: a no-op rebuild never needs the packer.
  const cpio = await import("../image/cpio/index.js");
  const epoch = cpio.sourceDateEpochFromEnv();
  const entries = new Map<string, CpioEntry>();
  const add = (e: CpioEntry, from: string) => {
    const had = entries.get(e.path);
    if (had && (had.type === "dir") !== (e.type === "dir")) {
      throw new KilnError(
        "BUILD_INITRD_CONFLICT",
        `initrd of target ${target.name}: /${e.path} is a ${had.type} in one input and a ${e.type} in ${from}`,
        { hint: "give the inputs destinations that do not overlap that way" },
      );
    }
    // A later input's entry replaces an earlier one's, in the order written.
    entries.set(e.path, e);
  };
  for (const input of spec.inputs) {
    const dest = archivePath(input.destination);
    const st = await stat(input.source);
    const kind = await inputKind(target, input);
    const mtimeSec = clamp(Math.floor(st.mtimeMs / 1000), epoch);
    if (kind === "file") {
      if (dest === "") {
        throw new KilnError(
          "BUILD_INITRD_INPUT_INVALID",
          `initrd input ${input.source} of target ${target.name} is a file, so its destination must name a file, not /`,
          { hint: `write e.g. ${input.source}:/${basename(input.source)}` },
        );
      }
      add(
        {
          path: dest,
          type: "file",
          mode: st.mode & 0o7777,
          uid: 0,
          gid: 0,
          mtimeSec,
          sizeBytes: st.size,
          sourcePath: input.source,
        },
        input.source,
      );
      continue;
    }
    if (dest !== "") {
      add({ path: dest, type: "dir", mode: st.mode & 0o7777, uid: 0, gid: 0, mtimeSec }, input.source);
    }
    const walked = cpio.walkDirectory(input.source, {
      ...(epoch !== undefined ? { sourceDateEpoch: epoch } : {}),
      // The archive itself when it is written inside an input, and temporary files of an interrupted run.
      exclude: skip,
    });
    for await (const e of walked) add(dest === "" ? e : { ...e, path: `${dest}/${e.path}` }, input.source);
  }
  await cpio.packCpio({
    output: out,
    extraEntries: [...entries.values()],
    gzip: spec.compress,
    ...(epoch !== undefined ? { sourceDateEpoch: epoch } : {}),
    reporter,
  });
  // Stamped after the rename: an output inside an input directory made that
  // directory newer than the archive's write time, which must not count.
  const now = new Date();
  await utimes(out, now, now);
  return { initrd: output, initrdSizeBytes: (await stat(output)).size };
}

/** `/etc/app/` → `etc/app`; `/` → `` (the archive root). */
function archivePath(destination: string): string {
  return destination
    .split("/")
    .filter((p) => p !== "" && p !== ".")
    .join("/");
}

function clamp(sec: number, epoch: number | undefined): number {
  return epoch !== undefined && sec > epoch ? epoch : sec;
}

async function newestInputMtimeMs(
  project: Project,
  spec: TargetInitrd,
  skip: (abs: string) => boolean,
): Promise<number> {
  let newest = (await stat(project.file).catch(() => undefined))?.mtimeMs ?? 0;
  for (const input of spec.inputs) {
    const st = await stat(input.source);
    const m = st.isDirectory() ? await newestMtimeMs(input.source, skip) : st.mtimeMs;
    if (m > newest) newest = m;
  }
  return newest;
}

/** The newest modification time in a tree, directories included (a removed file counts). */
async function newestMtimeMs(dir: string, skip: (abs: string) => boolean): Promise<number> {
  let newest = (await lstat(dir)).mtimeMs;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (skip(p)) continue;
    const m = e.isDirectory() ? await newestMtimeMs(p, skip) : (await lstat(p)).mtimeMs;
    if (m > newest) newest = m;
  }
  return newest;
}
