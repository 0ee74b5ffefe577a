/**
 * Transfers that break: a pull cut midway resumes with a Range request (in
 * the same run on a connection reset, and in the next run after the first
 * was killed); a push killed midway (chunked upload) is run again to
 * completion; a 503 is retried; a blob another repository holds is mounted.
 * A proxy in front of docker-registry does the breaking.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { which } from "../../src/core/exec.js";
import { KILN_FROM_SOURCE, runKiln, scratchDir } from "../helpers/kiln.js";
import { startRegistry } from "../helpers/registry.js";
import { buildMultibootStandin } from "../machine/guests.js";

const execFileAsync = promisify(execFile);

const missing = ["docker-registry", "skopeo", "gcc", "qemu-system-x86_64"].filter((t) => !which(t));
const skip = missing.length ? `missing ${missing.join(", ")}` : false;

type Mode = "pass" | "reset" | "stall";
interface Proxy {
  host: string;
  server: Server;
  mode: Mode;
  /** Requests seen: method, path, range header. */
  seen: { method: string; url: string; range?: string }[];
  /** Bytes relayed of the big blob (download) or received of uploads (push), for stall/reset modes. */
  relayed: number;
  /** An upload was left hanging. */
  stalled: boolean;
  fail503: number;
}

/** A proxy to `upstream` that can cut or stall the transfer of big bodies after `afterBytes`. */
async function startProxy(upstreamPort: number, afterBytes: number): Promise<Proxy> {
  const px: Proxy = {
    host: "",
    server: undefined as unknown as Server,
    mode: "pass",
    seen: [],
    relayed: 0,
    stalled: false,
    fail503: 0,
  };
  const server = createServer((req: IncomingMessage, res) => {
    px.seen.push({
      method: req.method ?? "",
      url: req.url ?? "",
      ...(req.headers.range ? { range: req.headers.range } : {}),
    });
    if (px.fail503 > 0 && req.url?.includes("/manifests/")) {
      px.fail503--;
      res.statusCode = 503;
      res.end();
      return;
    }
    const headers = { ...req.headers, host: `127.0.0.1:${upstreamPort}` };
    const up = request(
      { host: "127.0.0.1", port: upstreamPort, path: req.url, method: req.method, headers },
      (ur) => {
        const big = Number(ur.headers["content-length"] ?? 0) > afterBytes;
        const hdrs = { ...ur.headers };
        // Upload locations point at the proxy, so the whole push goes through it.
        if (typeof hdrs.location === "string")
          hdrs.location = hdrs.location.replace(`127.0.0.1:${upstreamPort}`, px.host);
        res.writeHead(ur.statusCode ?? 502, hdrs);
        if (!big || px.mode === "pass" || req.method !== "GET") {
          ur.pipe(res);
          return;
        }
        let sent = 0;
        ur.on("data", (c: Buffer) => {
          if (sent >= afterBytes) return;
          const part = c.subarray(0, afterBytes - sent);
          sent += part.length;
          px.relayed += part.length;
          res.write(part);
          if (sent >= afterBytes) {
            ur.destroy();
            if (px.mode === "reset") res.socket?.destroy();
            // stall: keep the connection open and silent until the client is killed
          }
        });
      },
    );
    up.on("error", () => res.socket?.destroy());
    if (
      px.mode === "stall" &&
      (req.method === "PATCH" || req.method === "PUT") &&
      req.url?.includes("/blobs/uploads/")
    ) {
      // Uploads pass until `afterBytes` in all, then the request hangs midway, unanswered.
      let stalled = false;
      req.on("data", (c: Buffer) => {
        if (stalled) return;
        if (px.relayed + c.length >= afterBytes) {
          stalled = true;
          px.stalled = true;
          req.pause();
          return;
        }
        px.relayed += c.length;
        up.write(c);
      });
      req.on("end", () => {
        if (!stalled) up.end();
      });
      return;
    }
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  px.server = server;
  px.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return px;
}

function spawnKiln(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(KILN_FROM_SOURCE[0]!, [...KILN_FROM_SOURCE.slice(1), ...args], {
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: "ignore",
  });
}

async function until(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function killAndWait(child: ChildProcess): Promise<void> {
  const closed = new Promise((r) => child.once("close", r));
  child.kill("SIGKILL");
  await closed;
}

/** A package whose root filesystem layer is `sizeBytes` of random data (a big blob to cut). */
async function packageBig(
  dir: string,
  ref: string,
  env: NodeJS.ProcessEnv,
  sizeBytes: number,
): Promise<string> {
  const kernel = buildMultibootStandin(dir);
  const disk = join(dir, "disk.img");
  writeFileSync(disk, randomBytes(sizeBytes));
  const r = await runKiln(["pkg", "--kernel", kernel, "--rootfs", disk, "--name", ref], { env });
  assert.equal(r.code, 0, r.stderr);
  return kernel;
}

test("an interrupted pull resumes with Range: after a reset in the same run, and after the first run was killed", {
  skip,
}, async (t) => {
  const dir = scratchDir(t);
  const reg = await startRegistry(join(dir, "reg"));
  t.after(() => reg.stop());
  const home1 = { KILN_HOME: join(dir, "h1") };
  await packageBig(dir, `${reg.host}/apps/big:1`, home1, 6 * 1024 * 1024);
  assert.equal((await runKiln(["pkg", "push", `${reg.host}/apps/big:1`], { env: home1 })).code, 0);
  const px = await startProxy(reg.port, 2 * 1024 * 1024);
  t.after(() => px.server.close());
  const ref = `${px.host}/apps/big:1`;

  // Same run: the proxy answers 503 once, then resets the big blob's connection at 2 MiB.
  px.mode = "reset";
  px.fail503 = 1;
  const r1 = await runKiln(["pkg", "pull", ref], { env: { KILN_HOME: join(dir, "h2") } });
  assert.equal(r1.code, 0, r1.stderr);
  assert.ok(
    px.seen.some((s) => /^bytes=[1-9]\d*-$/.test(s.range ?? "")),
    JSON.stringify(px.seen),
  );
  const run = await runKiln(["run", "-W", "--rm", ref, "-a", "exit=3"], {
    env: { KILN_HOME: join(dir, "h2") },
  });
  assert.equal(run.code, 3, run.stderr);

  // Next run: the first pull stalls at 2 MiB and is killed; the second continues from what ingest/ holds.
  px.mode = "stall";
  px.seen = [];
  px.relayed = 0;
  const home3 = join(dir, "h3");
  const first = spawnKiln(["pkg", "pull", ref], { KILN_HOME: home3 });
  const ingest = join(home3, "data/oci/ingest");
  const partialSize = () => {
    try {
      const f = readdirSync(ingest).find((n) => n.endsWith(".partial"));
      return f ? statSync(join(ingest, f)).size : 0;
    } catch {
      return 0;
    }
  };
  await until(() => px.relayed >= 2 * 1024 * 1024 && partialSize() > 0, "2 MiB sent and some in ingest/");
  await new Promise((r) => setTimeout(r, 500));
  await killAndWait(first);
  const held = partialSize();
  px.mode = "pass";
  const second = await runKiln(["pkg", "pull", ref], { env: { KILN_HOME: home3 } });
  assert.equal(second.code, 0, second.stderr);
  assert.ok(
    px.seen.some((s) => s.range === `bytes=${held}-`),
    `${held}: ${JSON.stringify(px.seen)}`,
  );
  const ls = await runKiln(["pkg", "ls", "--json"], { env: { KILN_HOME: home3 } });
  assert.equal((JSON.parse(ls.stdout) as { ref: string }[])[0]?.ref, ref);
});

test("a push killed midway (chunked upload) is run again to completion; the registry and the store are sound", {
  skip,
}, async (t) => {
  const dir = scratchDir(t);
  const reg = await startRegistry(join(dir, "reg"));
  t.after(() => reg.stop());
  const px = await startProxy(reg.port, 3 * 1024 * 1024);
  t.after(() => px.server.close());
  const ref = `${px.host}/apps/big:1`;
  const home = { KILN_HOME: join(dir, "h1") };
  await packageBig(dir, ref, home, 6 * 1024 * 1024);
  px.mode = "stall";
  const first = spawnKiln(["pkg", "push", ref, "--chunk-size", "1M"], home);
  t.after(() => first.kill("SIGKILL"));
  await until(() => px.stalled, "an upload hanging after 3 MiB");
  await killAndWait(first);
  px.mode = "pass";
  const again = await runKiln(["pkg", "push", ref, "--chunk-size", "1M", "--json"], { env: home });
  assert.equal(again.code, 0, again.stderr);
  assert.ok(
    px.seen.some((s) => s.method === "PATCH"),
    "chunked upload used",
  );
  // The registry serves a complete image; the local store still reads; a fresh pull runs.
  // (skopeo runs asynchronously: the proxy lives in this process and must keep serving.)
  await execFileAsync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`]);
  const inspect = await runKiln(["pkg", "inspect", ref], { env: home });
  assert.equal(inspect.code, 0, inspect.stderr);
  const run = await runKiln(["run", "-W", "--rm", ref, "-a", "exit=3"], {
    env: { KILN_HOME: join(dir, "h2") },
  });
  assert.equal(run.code, 3, run.stderr);
});

test("a blob another repository of the registry holds is mounted, not uploaded", { skip }, async (t) => {
  const dir = scratchDir(t);
  const reg = await startRegistry(join(dir, "reg"));
  t.after(() => reg.stop());
  const home = { KILN_HOME: join(dir, "h1") };
  const kernel = await packageBig(dir, `${reg.host}/apps/a:1`, home, 1024 * 1024);
  assert.equal((await runKiln(["pkg", "push", `${reg.host}/apps/a:1`], { env: home })).code, 0);
  assert.equal(
    (
      await runKiln(
        ["pkg", "--kernel", kernel, "--rootfs", join(dir, "disk.img"), "--name", `${reg.host}/apps/b:1`],
        { env: home },
      )
    ).code,
    0,
  );
  const r = await runKiln(["pkg", "push", `${reg.host}/apps/b:1`, "--json"], { env: home });
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout) as { mounted: number; uploadedBytes: number };
  assert.ok(res.mounted >= 2, r.stdout);
  assert.ok(res.uploadedBytes < 1024 * 1024, r.stdout);
});
