/**
 * Fuzz targets: every parser and planner that takes outside input. A target
 * gets bytes and either returns, throws a `KilnError` (a clean refusal, the
 * expected answer to bad input), or fails: any other exception, or a broken
 * property (a planner that lets a hostile path add a QEMU option, a tar name
 * that resolves outside the root). Seeds are small valid inputs to mutate.
 */
import { Readable } from "node:stream";
import { isKilnError } from "../src/core/errors.js";
import { parseMemMiB, parseSize } from "../src/core/units.js";
import { readCpio } from "../src/image/cpio/reader.js";
import { parseDeviceSpec } from "../src/image/cpio/spec.js";
import { normaliseEntryName } from "../src/image/layers.js";
import { parseKraftfile } from "../src/kraftfile/parse.js";
import { parseNetworkOption } from "../src/machine/network.js";
import { buildQemuArgv } from "../src/machine/qemu/argv.js";
import { parseEnvVar, parsePortForward, parseVolume } from "../src/machine/spec.js";
import { WaitForPattern } from "../src/machine/wait-pattern.js";
import { parseDotConfig } from "../src/unikraft/config.js";
import { parseLockFile } from "../src/unikraft/sources/lockfile.js";
import { machineSpec } from "../test/helpers/specs.js";

export interface FuzzTarget {
  name: string;
  seeds: string[];
  run(input: Buffer): void | Promise<void>;
}

/** A broken property: always a failure, whatever its class. */
export class PropertyViolation extends Error {}

/** Run `fn`; a `KilnError` is a clean refusal, anything else propagates. */
async function refusalsOk(fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!isKilnError(e)) throw e;
  }
}

/** QEMU's option splitter (util/qemu-option.c get_opt_value): `,` ends a value, `,,` is a comma. */
export function qemuOptionKeys(opts: string): string[] {
  const keys: string[] = [];
  let i = 0;
  while (i < opts.length) {
    let part = "";
    while (i < opts.length) {
      if (opts[i] === ",") {
        if (opts[i + 1] === ",") {
          part += ",";
          i += 2;
          continue;
        }
        i++;
        break;
      }
      part += opts[i++];
    }
    const eq = part.indexOf("=");
    keys.push(eq === -1 ? part : part.slice(0, eq));
  }
  return keys;
}

const text = (b: Buffer) => b.toString("utf8");

/** A newc archive of `[name, data, mode]` entries (the seed the CPIO reader starts from). */
function newc(entries: [string, string, number][]): string {
  const pad = (s: string) => s + "\0".repeat((4 - (s.length % 4)) % 4);
  const hex = (n: number) => n.toString(16).padStart(8, "0");
  return entries
    .map(([name, data, mode], i) => {
      const fields = [i + 1, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length + 1, 0];
      return pad(`070701${fields.map(hex).join("")}${name}\0`) + pad(data);
    })
    .join("");
}

export const TARGETS: FuzzTarget[] = [
  {
    name: "kraftfile",
    seeds: [
      'spec: v0.6\nname: app\nruntime: base:latest\nrootfs: ./Dockerfile\ncmd: ["/app"]\n',
      "specification: '0.5'\nunikraft:\n  version: stable\n  kconfig:\n    CONFIG_LIBUKDEBUG: 'y'\ntargets:\n  - qemu/x86_64\nvolumes:\n  - ./fs0:/data\nenv:\n  A: b\n",
    ],
    run: (b) => refusalsOk(() => parseKraftfile(text(b), "Kraftfile", { env: {}, isDirectory: () => false })),
  },
  {
    name: "dot-config",
    seeds: ['CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C="str"\nCONFIG_D=0x10\n'],
    run: (b) => refusalsOk(() => parseDotConfig(text(b))),
  },
  {
    name: "device-spec",
    seeds: ["/dev d 0755 0 0\n/dev/console c 0600 0 0 5 1\n/etc/f f 0644 0 0\n/init l 0777 0 0 /bin/sh\n"],
    run: (b) => refusalsOk(() => parseDeviceSpec(text(b), "spec.txt")),
  },
  {
    name: "lock-file",
    seeds: ['{"version":1,"components":{}}\n'],
    run: (b) => refusalsOk(() => parseLockFile(text(b), "kiln.lock")),
  },
  {
    name: "cpio",
    seeds: [
      newc([
        ["a", "x", 0o100644],
        ["d", "", 0o40755],
        ["TRAILER!!!", "", 0],
      ]),
    ],
    run: (b) =>
      refusalsOk(async () => {
        for await (const e of readCpio(Readable.from([b]))) {
          if (e.type === "file" && e.open) for await (const _ of e.open()) void _;
        }
      }),
  },
  {
    name: "cli-values",
    seeds: ["8080:80", "127.0.0.1:8080:80/udp", "./data:/data:ro", "K=V", "512M", "tap:kt0", "2GiB"],
    run: (b) =>
      refusalsOk(() => {
        const t = text(b);
        for (const f of [
          () => parsePortForward(t),
          () => parseVolume(t, "/cwd", 0),
          () => parseEnvVar(t, {}),
          () => parseMemMiB(t),
          () => parseSize(t),
          () => parseNetworkOption(t),
        ]) {
          try {
            f();
          } catch (e) {
            if (!isKilnError(e)) throw e;
          }
        }
      }),
  },
  {
    name: "tar-entry-name",
    seeds: ["a/b/c", "./x", "a/../b", "/abs", "a//b/./c"],
    run: (b) =>
      refusalsOk(() => {
        const rel = normaliseEntryName(text(b), "fuzz.tar");
        const parts = rel.split("/");
        if (rel.startsWith("/") || parts.includes("..") || (rel !== "" && parts.includes("")))
          throw new PropertyViolation(
            `entry name ${JSON.stringify(text(b))} normalised to ${JSON.stringify(rel)}`,
          );
      }),
  },
  {
    name: "qemu-argv-paths",
    seeds: ["/srv/data", "r,file=/other.img", "/x/vol,path=/secret", "a:b\nc=d"],
    run: (b) =>
      refusalsOk(() => {
        const p = text(b).replaceAll("\0", "");
        // Planning never sees an empty path (the CLI resolves every path it is given).
        if (p === "") return;
        const argv = buildQemuArgv(
          machineSpec({
            rootfs: p,
            volumes: [{ hostPath: p, guestPath: "/mnt", readonly: true, tag: "fs0" }],
          }),
          { accel: "tcg", instanceDir: `/state/${p}` },
        );
        const expect: Record<string, string[]> = {
          "-drive": ["file", "if", "id", "format"],
          "-fsdev": ["local", "id", "path", "security_model", "readonly"],
          "-chardev": ["pipe", "id", "path"],
        };
        for (const [flag, keys] of Object.entries(expect)) {
          const got = qemuOptionKeys(argv[argv.indexOf(flag) + 1] ?? "");
          if (JSON.stringify(got) !== JSON.stringify(keys))
            throw new PropertyViolation(
              `${flag} for path ${JSON.stringify(p)} parses as keys ${got.join(",")}`,
            );
        }
      }),
  },
  {
    name: "wait-for-pattern",
    seeds: ["READY .*", "(a+)+b$", "^login: ", "[[:alpha:]]+"],
    run: (b) =>
      refusalsOk(() => {
        const t = text(b);
        const nl = t.indexOf("\n");
        const pattern = new WaitForPattern(nl === -1 ? t : t.slice(0, nl));
        pattern.exec(`${nl === -1 ? "" : t.slice(nl + 1)}${"a".repeat(2000)}`);
      }),
  },
];
