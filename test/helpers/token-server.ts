/**
 * A small token server for Docker's registry token authentication (the
 * distribution `docs/spec/auth/token.md` flow), so a real docker-registry
 * configured with `auth: token:` checks real tokens and scopes: it answers
 * `GET /token?service=…&scope=repository:NAME:ACTIONS…` with a JWT signed
 * RS256 by a key whose self-signed certificate (made with openssl) is the
 * registry's `rootcertbundle`; the certificate travels in the token's `x5c`
 * header, which distribution 2.8 (`registry/auth/token/token.go`,
 * `verifySigningKey`) checks against that bundle before it trusts the key.
 * Each user gets the actions it is granted, intersected with those asked;
 * a blocked user is answered 403, as token services do for a known account
 * without access.
 */
import { execFileSync } from "node:child_process";
import { createPrivateKey, randomUUID, sign, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

export interface TokenUser {
  password: string;
  /** Actions granted on every repository (`pull`, `push`); `blocked` answers 403. */
  actions: string[];
  blocked?: boolean;
}

export interface TokenServer {
  /** The `realm` URL for the registry's configuration. */
  realm: string;
  service: string;
  issuer: string;
  /** The certificate file the registry trusts (`rootcertbundle`). */
  rootCertBundle: string;
  /** Every request seen: the account (or `""`) and the scopes asked. */
  requests: { account: string; scopes: string[]; status: number }[];
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

/** Start a token server on 127.0.0.1 for `users`; its key and certificate are made in `dir`. */
export async function startTokenServer(dir: string, users: Record<string, TokenUser>): Promise<TokenServer> {
  const keyPath = join(dir, "token.key");
  const certPath = join(dir, "token.crt");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      "2",
    ].concat(["-subj", "/CN=kiln-test-token-issuer"]),
    { stdio: "ignore" },
  );
  const key = createPrivateKey(readFileSync(keyPath));
  const certDer = new X509Certificate(readFileSync(certPath)).raw;
  const service = "kiln-test-registry";
  const issuer = "kiln-test-issuer";
  const requests: TokenServer["requests"] = [];

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const scopes = url.searchParams.getAll("scope");
    const answer = (status: number, body: unknown, account: string) => {
      requests.push({ account, scopes, status });
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? "");
    let account = "";
    let granted: string[] = [];
    if (basic) {
      const plain = Buffer.from(basic[1]!, "base64").toString("utf8");
      const i = plain.indexOf(":");
      account = plain.slice(0, i);
      const user = users[account];
      if (!user || user.password !== plain.slice(i + 1)) {
        return answer(401, { errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] }, account);
      }
      if (user.blocked) {
        return answer(
          403,
          { errors: [{ code: "DENIED", message: `account ${account} is blocked` }] },
          account,
        );
      }
      granted = user.actions;
    } else {
      return answer(401, { errors: [{ code: "UNAUTHORIZED", message: "credentials required" }] }, account);
    }
    const access = scopes.flatMap((s) => {
      const [type, name, actions] = s.split(":");
      if (type !== "repository" || !name || !actions) return [];
      return [{ type, name, actions: actions.split(",").filter((a) => granted.includes(a)) }];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: "RS256", typ: "JWT", x5c: [certDer.toString("base64")] };
    const claims = {
      iss: issuer,
      sub: account,
      aud: service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const signed = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${signed}.${b64url(sign("sha256", Buffer.from(signed), key))}`;
    answer(
      200,
      { token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() },
      account,
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    rootCertBundle: certPath,
    requests,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
