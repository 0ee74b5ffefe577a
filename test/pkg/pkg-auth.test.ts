/**
 * Bearer-token authentication end to end: Debian's docker-registry configured
 * with `auth: token:` trusts the certificate of a token server the test runs
 * (test/helpers/token-server.ts), so the registry itself verifies each token's
 * signature, issuer, audience and scopes. Kiln asks the realm for a token with
 * the credentials from the Docker config file, pushes and pulls through it;
 * a token without push scope, a refused account (403 from the token service)
 * and no credentials are clear errors.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { which } from "../../src/core/exec.js";
import { runKiln, scratchDir } from "../helpers/kiln.js";
import { startRegistry } from "../helpers/registry.js";
import { startTokenServer } from "../helpers/token-server.js";
import { buildMultibootStandin } from "../machine/guests.js";

const missing = ["docker-registry", "openssl", "gcc", "qemu-system-x86_64"].filter((t) => !which(t));
const skip = missing.length ? `missing ${missing.join(", ")}` : false;

test("token auth: push and pull through a registry that verifies the token service's JWTs; missing scope, a 403 and no credentials are clear errors", {
  skip,
}, async (t) => {
  const started = Date.now();
  const dir = scratchDir(t);
  const tokens = await startTokenServer(dir, {
    alice: { password: "a-pass", actions: ["pull", "push"] },
    bob: { password: "b-pass", actions: ["pull"] },
    mallory: { password: "m-pass", actions: ["pull", "push"], blocked: true },
  });
  t.after(() => tokens.stop());
  const reg = await startRegistry(join(dir, "reg"), { token: tokens });
  t.after(() => reg.stop());
  const dockerConfig = (user: string, password: string) => {
    const d = join(dir, `docker-${user}`);
    mkdirSync(d, { recursive: true });
    const auth = Buffer.from(`${user}:${password}`).toString("base64");
    writeFileSync(join(d, "config.json"), JSON.stringify({ auths: { [reg.host]: { auth } } }));
    return d;
  };
  const kernel = buildMultibootStandin(dir);
  const ref = `${reg.host}/team/mb:1`;
  const home = join(dir, "h1");
  const packed = await runKiln(["pkg", "--kernel", kernel, "--name", ref], { env: { KILN_HOME: home } });
  assert.equal(packed.code, 0, packed.stderr);

  // alice may push: Kiln answers the registry's challenge with a token asked for pull,push.
  const push = await runKiln(["pkg", "push", ref], {
    env: { KILN_HOME: home, DOCKER_CONFIG: dockerConfig("alice", "a-pass") },
  });
  assert.equal(push.code, 0, push.stderr);
  assert.ok(
    tokens.requests.some(
      (r) => r.account === "alice" && r.status === 200 && r.scopes.includes("repository:team/mb:pull,push"),
    ),
    JSON.stringify(tokens.requests),
  );

  // The registry checks the tokens: the one the service signed opens the manifest, a forged one does not.
  const scope = "repository:team/mb:pull";
  const issued = await fetch(`${tokens.realm}?service=${tokens.service}&scope=${scope}`, {
    headers: { authorization: `Basic ${Buffer.from("bob:b-pass").toString("base64")}` },
  }).then((r) => r.json() as Promise<{ token: string }>);
  const [h, claims] = issued.token.split(".");
  const widened = Buffer.from(claims!, "base64url").toString().replace('"pull"]', '"pull","push"]');
  const forged = `${h}.${Buffer.from(widened).toString("base64url")}.${issued.token.split(".")[2]}`;
  const get = (token: string) =>
    fetch(`http://${reg.host}/v2/team/mb/manifests/1`, {
      method: "HEAD",
      headers: { authorization: `Bearer ${token}`, accept: "application/vnd.oci.image.index.v1+json" },
    }).then((r) => r.status);
  assert.equal(await get(issued.token), 200);
  assert.equal(await get(forged), 401);

  // bob may only pull: into an empty store, then run by reference.
  const bobEnv = { KILN_HOME: join(dir, "h2"), DOCKER_CONFIG: dockerConfig("bob", "b-pass") };
  const pull = await runKiln(["pkg", "pull", ref], { env: bobEnv });
  assert.equal(pull.code, 0, pull.stderr);
  const run = await runKiln(["run", "-W", "--rm", ref, "-a", "exit=3"], { env: bobEnv });
  assert.equal(run.code, 3, run.stderr);

  // bob's token carries no push: the registry answers insufficient_scope, Kiln says so (the
  // registry writes the scope's actions in either order).
  const bobPush = await runKiln(["pkg", "push", ref, "--to", `${reg.host}/team/mb:2`, "--json"], {
    env: { ...bobEnv, KILN_HOME: home },
  });
  assert.equal(bobPush.code, 1);
  const denied = JSON.parse(bobPush.stdout) as { error: { code: string; message: string; hint: string } };
  assert.equal(denied.error.code, "REGISTRY_DENIED");
  assert.match(
    denied.error.message,
    /team\/mb: the token service http:\/\/127\.0\.0\.1:\d+ did not grant "repository:team\/mb:(pull,push|push,pull)" to the account from \S+config\.json/,
  );
  assert.match(denied.error.hint, /may pull but not push/);

  // mallory's account is refused by the token service (403).
  const mallory = await runKiln(["pkg", "pull", ref], {
    env: { KILN_HOME: join(dir, "h3"), DOCKER_CONFIG: dockerConfig("mallory", "m-pass") },
  });
  assert.equal(mallory.code, 1);
  assert.match(
    mallory.stderr,
    /token service http:\/\/127\.0\.0\.1:\d+ refused the credentials from \S+config\.json for 127\.0\.0\.1:\d+\/team\/mb \(HTTP 403\)/,
  );

  // No credentials: the token service wants some.
  const anon = await runKiln(["pkg", "pull", ref, "--json"], {
    env: { KILN_HOME: join(dir, "h4"), DOCKER_CONFIG: join(dir, "none") },
  });
  assert.equal(anon.code, 1);
  assert.equal(JSON.parse(anon.stdout).error.code, "REGISTRY_UNAUTHORIZED");
  assert.match(JSON.parse(anon.stdout).error.message, /refused an anonymous token .*\(HTTP 401\)/);
  console.log(`token auth test: ${Date.now() - started} ms`);
});
