/**
 * A minimal QMP client (QEMU Machine Protocol, docs/interop/qmp-spec.rst):
 * connect to the Unix socket, read the greeting, negotiate with
 * `qmp_capabilities`, then send one command and wait for its `return` or
 * `error`, skipping asynchronous events.
 */
import { KilnError } from "../../core/errors.js";
import { connectUnix } from "../../core/unix-socket.js";

/** Send `command` (with `args`) over the QMP socket at `path`; resolves with its `return`. */
export function qmpCommand(
  path: string,
  command: string,
  args?: Record<string, unknown>,
  timeoutMs = 3000,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = connectUnix(path);
    let buf = "";
    let stage: "greeting" | "caps" | "command" = "greeting";
    const fail = (message: string, cause?: unknown) => {
      clearTimeout(timer);
      sock.destroy();
      reject(new KilnError("QMP_FAILED", `QMP ${command} on ${path}: ${message}`, { cause }));
    };
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    sock.on("error", (e) => fail(e.message, e));
    sock.on("close", () => {
      // `quit` closes the socket before (or instead of) answering: that is success.
      if (stage === "command" && command === "quit") {
        clearTimeout(timer);
        resolve(undefined);
      } else if (stage !== "command" || buf !== "") fail("connection closed");
    });
    sock.on("data", (chunk: Buffer) => {
      buf += chunk.toString("utf8");
      let nl = buf.indexOf("\n");
      while (nl !== -1) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        nl = buf.indexOf("\n");
        if (!line) continue;
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line) as Record<string, unknown>;
        } catch (e) {
          fail(`unparsable message ${line.slice(0, 80)}`, e);
          return;
        }
        if ("event" in msg) continue;
        if (stage === "greeting" && "QMP" in msg) {
          stage = "caps";
          sock.write(`${JSON.stringify({ execute: "qmp_capabilities" })}\n`);
        } else if (stage === "caps" && "return" in msg) {
          stage = "command";
          sock.write(
            `${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`,
          );
        } else if ("error" in msg) {
          const err = msg.error as { desc?: string };
          fail(err.desc ?? JSON.stringify(msg.error));
        } else if (stage === "command" && "return" in msg) {
          clearTimeout(timer);
          sock.end();
          resolve(msg.return);
          return;
        }
      }
    });
  });
}
