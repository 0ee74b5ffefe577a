import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { test } from "node:test";
import { scratchDir } from "../../test/helpers/kiln.js";
import { machineSpec } from "../../test/helpers/specs.js";
import { isKilnError } from "../core/errors.js";
import { createInstance, machinesDir, readRecord, updateRecord } from "./store.js";

const { name: _name, ...base } = machineSpec({
  kernel: "/k",
  kernelKind: "multiboot",
  guest: "unikraft",
  memMiB: 0,
  accel: "tcg",
});
const meta = { vmm: "qemu", platform: "qemu", autoRemove: false, detached: true };

test("concurrent creations get unique names; concurrent updates are never lost", async (t) => {
  const env = { KILN_HOME: scratchDir(t) };
  const made = await Promise.all(Array.from({ length: 12 }, () => createInstance(base, meta, env)));
  const names = made.map((m) => m.spec.name);
  assert.equal(new Set(names).size, 12);
  assert.deepEqual(readdirSync(machinesDir(env)).filter((n) => names.includes(n)).length, 12);
  const first = names[0]!;
  await Promise.all(
    Array.from({ length: 25 }, () => updateRecord(first, (r) => ({ ...r, memMiB: r.memMiB + 1 }), env)),
  );
  assert.equal((await readRecord(first, env)).memMiB, 25);
});

test("a taken name is refused; an unknown machine is MACHINE_NOT_FOUND", async (t) => {
  const env = { KILN_HOME: scratchDir(t) };
  await createInstance(base, { ...meta, name: "dup" }, env);
  await assert.rejects(createInstance(base, { ...meta, name: "dup" }, env), (e) =>
    isKilnError(e, "NAME_IN_USE"),
  );
  await assert.rejects(
    readRecord("nope", env),
    (e) => isKilnError(e, "MACHINE_NOT_FOUND") && /no machine named "nope"/.test(e.message),
  );
});
