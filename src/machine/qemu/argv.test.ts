/**
 * Golden tests for the QEMU argv planner: each case's argv is compared with
 * `test/golden/qemu/<case>.argv` (one argument per line). Regenerate after an
 * intended change with `KILN_UPDATE_GOLDEN=1 npm run test:only -- src/machine/qemu/argv.test.ts`
 * and review the diff.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT } from "../../../test/helpers/kiln.js";
import { machineSpec } from "../../../test/helpers/specs.js";
import { isKilnError } from "../../core/errors.js";
import type { MachineSpec } from "../driver.js";
import {
  buildQemuArgv,
  kernelCommandLine,
  type QemuHost,
  qemuKernelConfig,
  translateKernelArgs,
} from "./argv.js";

const GOLDEN = join(REPO_ROOT, "test/golden/qemu");
const host: QemuHost = { accel: "tcg", instanceDir: "/state/machines/m1" };

const spec = (over: Partial<MachineSpec>): MachineSpec => machineSpec(over);

const CASES: Record<string, { spec: MachineSpec; host?: Partial<QemuHost> }> = {
  "linux-bzimage-minimal": { spec: spec({ initrd: "/k/initrd.cpio" }) },
  "linux-bzimage-full": {
    spec: spec({
      cpus: 2,
      memMiB: 512,
      initrd: "/k/initrd.cpio",
      rootfs: "/k/root.ext4",
      kernelArgs: ["quiet", "reboot=k"],
      appArgs: ["sh", "-c", "echo hi there"],
      env: { GREETING: "hello world" },
      volumes: [{ hostPath: "/srv/data", guestPath: "/data", readonly: true, tag: "fs0" }],
      ports: [{ hostIp: "127.0.0.1", hostPort: 8080, guestPort: 80, protocol: "tcp" }],
      network: "user",
    }),
  },
  "linux-kvm": { spec: spec({ initrd: "/k/initrd.cpio" }), host: { accel: "kvm" } },
  "linux-microvm": {
    spec: spec({ kernelKind: "elf", rootfs: "/k/root.ext4", network: "user" }),
    host: { machine: "microvm" },
  },
  "linux-microvm-firecracker-args": {
    spec: spec({
      kernelKind: "elf",
      rootfs: "/k/root.ext4",
      kernelArgs: ["reboot=k", "pci=off", "virtio_mmio.device=4K@0xd0000000:5"],
    }),
    host: { machine: "microvm", microvmAcpi: false },
  },
  "unikraft-multiboot": {
    spec: spec({
      kernel: "/app/.unikraft/build/nginx_qemu-x86_64",
      kernelKind: "multiboot",
      guest: "unikraft",
      memMiB: 64,
      initrd: "/app/.unikraft/build/initramfs-x86_64.cpio",
      appArgs: ["-c", "/nginx/conf/nginx.conf"],
      env: { PATH: "/bin" },
      volumes: [{ hostPath: "/app/fs0", guestPath: "/", readonly: false, tag: "fs0" }],
      ports: [{ hostIp: "0.0.0.0", hostPort: 8080, guestPort: 80, protocol: "tcp" }],
      network: "user",
    }),
  },
  "arm64-linux": {
    spec: spec({ kernel: "/k/Image", kernelKind: "arm64-image", architecture: "arm64", initrd: "/k/initrd" }),
  },
  // Unikraft's qemu/arm64 images carry the arm64 Image header (plat/kvm/arm/image.S).
  "unikraft-arm64": {
    spec: spec({
      kernel: "/app/.unikraft/build/helloworld_qemu-arm64",
      kernelKind: "arm64-image",
      guest: "unikraft",
      architecture: "arm64",
      memMiB: 64,
      appArgs: ["one", "two"],
      env: { K: "V" },
    }),
  },
};

for (const [name, c] of Object.entries(CASES)) {
  test(`argv golden: ${name}`, () => {
    const argv = buildQemuArgv(c.spec, { ...host, ...c.host });
    const text = `${argv.join("\n")}\n`;
    const file = join(GOLDEN, `${name}.argv`);
    if (process.env.KILN_UPDATE_GOLDEN || !existsSync(file)) {
      if (!process.env.KILN_UPDATE_GOLDEN)
        assert.fail(`missing golden file ${file}; run with KILN_UPDATE_GOLDEN=1`);
      writeFileSync(file, text);
    }
    assert.equal(text, readFileSync(file, "utf8"));
  });
}

test("Linux command line: console, panic, env as K=V, app args after --", () => {
  const line = kernelCommandLine(
    spec({ kernelArgs: ["quiet"], env: { A: "1", B: "two words" }, appArgs: ["sh", "-c", "echo hi"] }),
  );
  assert.equal(line, 'console=ttyS0 panic=-1 quiet A=1 B="two words" -- sh -c "echo hi"');
});

test("user-given console= and panic= are kept, not duplicated", () => {
  assert.equal(kernelCommandLine(spec({ kernelArgs: ["console=hvc0", "panic=5"] })), "console=hvc0 panic=5");
});

test("a root disk is mounted read-write (root=/dev/vda rw, as Firecracker appends) unless ro/rw/root= is given", () => {
  assert.equal(
    kernelCommandLine(spec({ rootfs: "/k/root.ext4" })),
    "console=ttyS0 panic=-1 root=/dev/vda rw",
  );
  assert.equal(
    kernelCommandLine(spec({ rootfs: "/k/root.ext4", kernelArgs: ["ro", "root=/dev/vda1"] })),
    "console=ttyS0 panic=-1 ro root=/dev/vda1",
  );
  assert.equal(kernelCommandLine(spec({})), "console=ttyS0 panic=-1");
});

test("an EROFS root (.erofs) is a read-only disk with `ro`, so machines can share it", () => {
  const argv = buildQemuArgv(spec({ rootfs: "/k/app.erofs" }), host);
  assert.match(argv[argv.indexOf("-append") + 1] ?? "", / root=\/dev\/vda ro$/);
  assert.equal(
    argv[argv.indexOf("-drive") + 1],
    "file=/k/app.erofs,if=none,id=rootfs,format=raw,readonly=on",
  );
});

test("planning's content check wins over the name: EROFS in a .img is read-only, ext4 named .erofs is not", () => {
  const ro = buildQemuArgv(spec({ rootfs: "/k/root.img", rootfsReadOnly: true }), host);
  assert.equal(ro[ro.indexOf("-drive") + 1], "file=/k/root.img,if=none,id=rootfs,format=raw,readonly=on");
  assert.match(ro[ro.indexOf("-append") + 1] ?? "", / root=\/dev\/vda ro$/);
  const rw = buildQemuArgv(spec({ rootfs: "/k/odd.erofs", rootfsReadOnly: false }), host);
  assert.equal(rw[rw.indexOf("-drive") + 1], "file=/k/odd.erofs,if=none,id=rootfs,format=raw");
  assert.match(rw[rw.indexOf("-append") + 1] ?? "", / root=\/dev\/vda rw$/);
});

test("Unikraft command line: env.vars and vfs.fstab (single-quoted), then -- and app args", () => {
  const line = kernelCommandLine(
    spec({
      guest: "unikraft",
      env: { K: "V" },
      volumes: [
        { hostPath: "/a", guestPath: "/data", readonly: false, tag: "fs0" },
        { hostPath: "/b", guestPath: "/ro", readonly: true, tag: "fs1" },
      ],
      appArgs: ["x"],
    }),
  );
  assert.equal(
    line,
    "env.vars=[ 'K=V' ] vfs.fstab=[ 'fs0:/data:9pfs:::mkmp' 'fs1:/ro:9pfs:0x1::mkmp' ] -- x",
  );
});

test("Unikraft app args alone get no `--`: only uklibparam strips it, and an image without it would see it in argv", () => {
  assert.equal(kernelCommandLine(spec({ guest: "unikraft", appArgs: ["one", "two"] })), "one two");
  assert.equal(
    kernelCommandLine(spec({ guest: "unikraft", kernelArgs: ["vfs.rootfs=initrd"], appArgs: ["one"] })),
    "vfs.rootfs=initrd -- one",
  );
});

test("reboot=k (Firecracker) becomes reboot=t on QEMU", () => {
  assert.deepEqual(translateKernelArgs(["reboot=k", "panic=1"]), ["reboot=t", "panic=1"]);
});

test("tap networking plans a tap netdev on the named device and a virtio NIC", () => {
  const argv = buildQemuArgv(spec({ network: "tap", networkDevice: "tap7" }), host);
  const i = argv.indexOf("-netdev");
  assert.equal(argv[i + 1], "tap,id=net0,ifname=tap7,script=no,downscript=no");
  assert.match(argv[i + 3] ?? "", /^virtio-net-(pci|device),netdev=net0/);
});

test("a Linux argument with a double quote is refused (the kernel cannot carry it)", () => {
  assert.throws(
    () => kernelCommandLine(spec({ appArgs: ["sh", "-c", 'echo "x"'] })),
    (e) => isKilnError(e, "ARG_UNREPRESENTABLE") && e.message.includes('echo \\"x\\"'),
  );
});

test("paths QEMU parses as option strings have `,` doubled; relative disks cannot name a protocol", () => {
  const argv = buildQemuArgv(
    spec({
      rootfs: "r,file=/other.img",
      volumes: [{ hostPath: "/x/vol,path=/secret", guestPath: "/mnt", readonly: false, tag: "fs0" }],
    }),
    { ...host, instanceDir: "/s,id=y/m\n1" },
  );
  assert.equal(argv[argv.indexOf("-drive") + 1], "file=./r,,file=/other.img,if=none,id=rootfs,format=raw");
  assert.equal(
    argv[argv.indexOf("-fsdev") + 1],
    "local,id=fsdev0,path=/x/vol,,path=/secret,security_model=none",
  );
  assert.match(argv[argv.indexOf("-chardev") + 1] ?? "", /^pipe,id=con0,path=\/s,,id=y\/m\n1\/console$/);
  assert.match(argv[argv.indexOf("-qmp") + 1] ?? "", /^unix:\/s,,id=y\/m\n1\/qmp\.sock,server=on/);
  const nbd = buildQemuArgv(spec({ rootfs: "nbd:127.0.0.1:10809" }), host);
  assert.equal(nbd[nbd.indexOf("-drive") + 1], "file=./nbd:127.0.0.1:10809,if=none,id=rootfs,format=raw");
});

test("a Multiboot initrd is a module list: `,` doubled, white space refused", () => {
  const mb = (initrd: string) =>
    buildQemuArgv(spec({ guest: "unikraft", kernelKind: "multiboot", initrd }), host);
  const argv = mb("/a,b/initrd.cpio");
  assert.equal(argv[argv.indexOf("-initrd") + 1], "/a,,b/initrd.cpio");
  assert.throws(
    () => mb("/a b/initrd.cpio"),
    (e) => isKilnError(e, "ARG_UNREPRESENTABLE") && /white space/.test(e.message),
  );
  const linux = buildQemuArgv(spec({ initrd: "/a,b/initrd" }), host);
  assert.equal(linux[linux.indexOf("-initrd") + 1], "/a,b/initrd");
});

test("Unikraft env values: quotes and backslashes are kept as ukargparse reads them; a newline is refused", () => {
  const line = (v: string) => kernelCommandLine(spec({ guest: "unikraft", env: { K: v } }));
  assert.equal(line("a b"), "env.vars=[ 'K=a b' ] --");
  // inside '…' a backslash and a " are ordinary; a ' is closed, escaped and reopened, as in sh
  assert.equal(line('a" vfs.fstab=[ "x'), `env.vars=[ 'K=a" vfs.fstab=[ "x' ] --`);
  assert.equal(line("a\\"), "env.vars=[ 'K=a\\' ] --");
  assert.equal(line("it's"), "env.vars=[ 'K=it'\\''s' ] --");
  for (const v of ["a\nb", "a\0b"]) {
    assert.throws(
      () => line(v),
      (e) => isKilnError(e, "ARG_UNREPRESENTABLE") && e.message.startsWith("-e K: "),
    );
  }
});

test("Unikraft -e values go through the config file too (single quotes need no double quote)", () => {
  const s = spec({ guest: "unikraft", env: { DB_PASSWORD: "hunter2 x" } });
  const argv = buildQemuArgv(s, host);
  assert.ok(!argv.some((a) => a.includes("hunter2")), argv.join(" "));
  assert.ok(argv.includes("-readconfig"));
  assert.deepEqual(qemuKernelConfig(s), {
    text: `# Written by kiln: the kernel command line, kept out of QEMU's argv.\n[machine]\n  append = "env.vars=[ 'DB_PASSWORD=hunter2 x' ] --"\n`,
  });
  // a value holding a " still cannot be written there
  assert.deepEqual(qemuKernelConfig(spec({ guest: "unikraft", env: { K: 'a"b' } })), {
    visibleBecause: "it holds a double quote, which QEMU's config file cannot carry",
  });
});

test("-e values go through a config file, not argv, when QEMU's config syntax can hold the line", () => {
  const s = spec({ env: { DB_PASSWORD: "hunter2" }, initrd: "/k/i" });
  const argv = buildQemuArgv(s, host);
  assert.ok(!argv.some((a) => a.includes("hunter2")), argv.join(" "));
  assert.equal(argv[argv.indexOf("-readconfig") + 1], "/state/machines/m1/kernel-cmdline.cfg");
  assert.ok(!argv.includes("-append"));
  assert.deepEqual(qemuKernelConfig(s), {
    text: '# Written by kiln: the kernel command line, kept out of QEMU\'s argv.\n[machine]\n  append = "console=ttyS0 panic=-1 DB_PASSWORD=hunter2"\n',
  });
  // A value needing quotes cannot be written there (QEMU reads up to the next "): -append, with a reason.
  const quoted = qemuKernelConfig(spec({ env: { A: "two words" } }));
  assert.deepEqual(quoted, {
    visibleBecause: "it holds a double quote, which QEMU's config file cannot carry",
  });
  assert.equal(qemuKernelConfig(spec({})), undefined);
});

test("--add-drive disks follow the root disk, raw, read-only with readonly=on; a comma in a path is doubled", () => {
  const argv = buildQemuArgv(
    spec({
      rootfs: "/k/root.ext4",
      drives: [
        { path: "/k/data,1.img", readOnly: true },
        { path: "/k/scratch.img", readOnly: false },
      ],
    }),
    host,
  );
  const drives = argv.filter((_, i) => argv[i - 1] === "-drive" || argv[i - 1] === "-device");
  assert.deepEqual(
    drives.filter((a) => /rootfs|drive\d/.test(a)),
    [
      "file=/k/root.ext4,if=none,id=rootfs,format=raw",
      "virtio-blk-pci,drive=rootfs",
      "file=/k/data,,1.img,if=none,id=drive1,format=raw,readonly=on",
      "virtio-blk-pci,drive=drive1",
      "file=/k/scratch.img,if=none,id=drive2,format=raw",
      "virtio-blk-pci,drive=drive2",
    ],
  );
});
