/**
 * A small client for Firecracker's HTTP API on its Unix socket (`--api-sock`).
 * Firecracker answers `204 No Content` on success and `4xx/5xx` with
 * `{"fault_message": "…"}` on failure; a failure becomes a KilnError that
 * quotes Firecracker's message and the request that caused it.
 */
import { request as httpRequest } from "node:http";
import { KilnError } from "../../core/errors.js";
import type { FirecrackerRequest } from "./plan.js";

/** A response from the API. */
export interface FirecrackerResponse {
  statusCode: number;
  /** Parsed JSON body, when there is one. */
  body?: unknown;
}

export interface FirecrackerClientOptions {
  /** Give up on one request after this many milliseconds (default 10 s). */
  timeoutMs?: number;
}

/** Format a request for messages: `PUT /drives/rootfs {"drive_id":…}`. */
export function formatFirecrackerRequest(req: FirecrackerRequest): string {
  return `${req.method} ${req.path}${req.body === undefined ? "" : ` ${JSON.stringify(req.body)}`}`;
}

/** Talks to one Firecracker process over its API socket. */
export class FirecrackerClient {
  constructor(
    /** Path of the API socket. */
    readonly socketPath: string,
    private readonly options: FirecrackerClientOptions = {},
  ) {}

  /**
   * Send one request; resolves with the response when the status is 2xx.
   * Throws `FIRECRACKER_API_ERROR` (with Firecracker's `fault_message`) on an
   * error status and `FIRECRACKER_API_UNREACHABLE` when the socket does not answer.
   */
  send(req: FirecrackerRequest): Promise<FirecrackerResponse> {
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const r = httpRequest(
        {
          socketPath: this.socketPath,
          method: req.method,
          path: req.path,
          // Firecracker's HTTP server wants a Host header and an exact Content-Length.
          headers: {
            Host: "localhost",
            Accept: "application/json",
            ...(payload ? { "Content-Type": "application/json", "Content-Length": payload.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let body: unknown;
            if (text.trim() !== "") {
              try {
                body = JSON.parse(text);
              } catch {
                body = text;
              }
            }
            const statusCode = res.statusCode ?? 0;
            if (statusCode >= 200 && statusCode < 300) {
              resolve({ statusCode, ...(body === undefined ? {} : { body }) });
              return;
            }
            reject(firecrackerApiError(req, statusCode, body));
          });
        },
      );
      r.setTimeout(timeoutMs, () => {
        r.destroy(new Error(`no answer within ${timeoutMs} ms`));
      });
      r.on("error", (e) => {
        reject(
          new KilnError(
            "FIRECRACKER_API_UNREACHABLE",
            `Firecracker's API socket ${this.socketPath} did not answer ${req.method} ${req.path}: ${e.message}`,
            {
              cause: e,
              hint: "the firecracker process may have exited; see its log in the instance directory",
            },
          ),
        );
      });
      r.end(payload);
    });
  }

  /** Send requests one after the other, stopping at the first failure. */
  async sendAll(reqs: readonly FirecrackerRequest[]): Promise<void> {
    for (const req of reqs) await this.send(req);
  }
}

/** The KilnError for an error answer: Firecracker's own words first, then the request. */
export function firecrackerApiError(req: FirecrackerRequest, statusCode: number, body: unknown): KilnError {
  const fault =
    typeof body === "object" && body !== null && "fault_message" in body
      ? String((body as { fault_message: unknown }).fault_message)
      : typeof body === "string" && body !== ""
        ? body
        : `HTTP ${statusCode} without a fault message`;
  return new KilnError("FIRECRACKER_API_ERROR", `Firecracker rejected ${req.method} ${req.path}: ${fault}`, {
    details: [`request: ${formatFirecrackerRequest(req)}`, `status: ${statusCode}`],
  });
}
