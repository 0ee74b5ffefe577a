import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { downloadTo } from "./download.js";

test("a server that accepts but never answers is given up on, and nothing is written", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-dl-"));
  const sockets: Socket[] = [];
  const server = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const port = (server.address() as { port: number }).port;
  const to = join(dir, "x.tar.gz");
  const err = await downloadTo(`http://127.0.0.1:${port}/x.tar.gz`, to, undefined, 300);
  assert.equal(err, `timed out talking to 127.0.0.1:${port}: no response within 0.3 s`);
  assert.equal(existsSync(to), false);
});

test("a missing local file and a refused connection are reported, not thrown", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-dl-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(await downloadTo(join(dir, "nope"), join(dir, "out")), "absent");
  // A port that was just free: nothing listens there any more.
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  assert.equal(
    await downloadTo(`http://127.0.0.1:${port}/x`, join(dir, "out")),
    `connection refused by 127.0.0.1:${port}`,
  );
});
