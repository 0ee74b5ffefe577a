import assert from "node:assert/strict";
import { test } from "node:test";
import { ownerInNamespace, type UserNamespaceView, userNamespaceView } from "./userns.js";

const view: UserNamespaceView = { prefix: [], uid: 1000, gid: 100, overflowUid: 65534, overflowGid: 65534 };

test("in the namespace the caller's ids read as 0 and every other id as the overflow id", () => {
  assert.deepEqual(ownerInNamespace(view, { uid: 1000, gid: 100 }), { uid: 0, gid: 0 });
  assert.deepEqual(ownerInNamespace(view, { uid: 1000, gid: 5 }), { uid: 0, gid: 65534 });
  assert.deepEqual(ownerInNamespace(view, { uid: 0, gid: 100 }), { uid: 65534, gid: 0 });
});

test("root needs no namespace", {
  skip: process.getuid?.() === 0 ? false : "runs as root only",
}, async () => {
  assert.equal(await userNamespaceView(), undefined);
});
