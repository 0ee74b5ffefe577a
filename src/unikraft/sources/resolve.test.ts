import assert from "node:assert/strict";
import { test } from "node:test";
import { isKilnError } from "../../core/errors.js";
import { parseRefs, parseRelease, releaseMismatch, resolveVersion } from "./resolve.js";

const A = "a".repeat(40);
const B = "b".repeat(40);
const C = "c".repeat(40);
const D = "d".repeat(40);
const T = "e".repeat(40);

// As `git ls-remote` prints it: an annotated tag's own object, then the peeled commit.
const LS_REMOTE = [
  `${A}\tHEAD`,
  `${A}\trefs/heads/staging`,
  `${B}\trefs/heads/stable`,
  `${T}\trefs/tags/RELEASE-0.17.0`,
  `${B}\trefs/tags/RELEASE-0.17.0^{}`,
  `${C}\trefs/tags/RELEASE-0.16.3`,
  `${D}\trefs/tags/RELEASE-0.9.10`,
  `${A}\trefs/tags/not-a-release`,
].join("\n");

test("parseRefs peels annotated tags and splits heads from tags", () => {
  const refs = parseRefs(LS_REMOTE);
  assert.equal(refs.tags.get("RELEASE-0.17.0"), B);
  assert.equal(refs.tags.get("RELEASE-0.16.3"), C);
  assert.equal(refs.heads.get("staging"), A);
  assert.equal(refs.heads.has("HEAD"), false);
});

test("stable compares releases numerically, not as strings", () => {
  const refs = parseRefs(LS_REMOTE);
  assert.deepEqual(resolveVersion(refs, { name: "unikraft", version: "stable", where: "x" }), {
    ref: "RELEASE-0.17.0",
    kind: "tag",
    commit: B,
  });
  const lib = resolveVersion(refs, {
    name: "lib",
    version: "stable",
    where: "x",
    coreRelease: parseRelease("RELEASE-0.16.9")!,
  });
  assert.equal(lib.ref, "RELEASE-0.16.3");
  const old = resolveVersion(refs, {
    name: "lib",
    version: "stable",
    where: "x",
    coreRelease: parseRelease("RELEASE-0.10.0")!,
  });
  assert.equal(old.ref, "RELEASE-0.9.10");
});

test("stable with no release old enough is an error listing the releases", () => {
  assert.throws(
    () =>
      resolveVersion(parseRefs(LS_REMOTE), {
        name: "library musl",
        version: "stable",
        where: "lib-musl",
        coreRelease: parseRelease("RELEASE-0.1.0")!,
      }),
    (e) =>
      isKilnError(e, "SOURCE_VERSION_NOT_FOUND") &&
      e.message ===
        'library musl: "stable" needs a RELEASE-x.y.z tag not newer than the core\'s RELEASE-0.1.0, and lib-musl has RELEASE-0.17.0, RELEASE-0.16.3, RELEASE-0.9.10',
  );
});

test("tags win over branches; hex resolves as a commit; unknown names fail", () => {
  const refs = parseRefs(`${A}\trefs/heads/RELEASE-0.16.3\n${C}\trefs/tags/RELEASE-0.16.3\n`);
  assert.equal(resolveVersion(refs, { name: "u", version: "RELEASE-0.16.3", where: "x" }).commit, C);
  assert.deepEqual(resolveVersion(refs, { name: "u", version: "deadbeef", where: "x" }), {
    ref: "deadbeef",
    kind: "commit",
    commit: "deadbeef",
  });
  assert.throws(
    () => resolveVersion(refs, { name: "u", version: "nope", where: "repo" }),
    (e) => isKilnError(e, "SOURCE_VERSION_NOT_FOUND") && /"nope" is neither a tag/.test(e.message),
  );
});

test("releaseMismatch warns only across release lines", () => {
  const core = parseRelease("RELEASE-0.17.0")!;
  assert.equal(releaseMismatch("lib", "RELEASE-0.17.0", core), undefined);
  assert.equal(releaseMismatch("lib", "staging", core), undefined);
  assert.match(
    releaseMismatch("library musl", "RELEASE-0.16.3", core) ?? "",
    /no release for RELEASE-0\.17\.0/,
  );
});
