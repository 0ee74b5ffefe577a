import assert from "node:assert/strict";
import { test } from "node:test";
import { describeNetFailure } from "./net-errors.js";

// Messages as git 2.39 (curl, GnuTLS) and Node 20's fetch print them.
test("git's failures: DNS, refused, HTTP status, TLS, not a repository, each naming the URL", () => {
  const cases: [string, string, string, string][] = [
    [
      "http://no-such-host.invalid/x.git",
      "fatal: unable to access 'http://no-such-host.invalid/x.git/': Could not resolve host: no-such-host.invalid",
      "dns",
      "DNS: cannot resolve host no-such-host.invalid",
    ],
    [
      "http://127.0.0.1:1/x.git",
      "fatal: unable to access 'http://127.0.0.1:1/x.git/': Failed to connect to 127.0.0.1 port 1 after 1 ms: Couldn't connect to server",
      "refused",
      "connection refused by 127.0.0.1:1",
    ],
    [
      "http://127.0.0.1:8000/x.git",
      "fatal: repository 'http://127.0.0.1:8000/x.git/' not found",
      "http",
      "HTTP 404 Not Found: no git repository there",
    ],
    [
      "https://git.example.test/x.git",
      "fatal: unable to access 'https://git.example.test/x.git/': The requested URL returned error: 503",
      "http",
      "HTTP 503",
    ],
    [
      "https://127.0.0.1:8000/x.git",
      "fatal: unable to access 'https://127.0.0.1:8000/x.git/': gnutls_handshake() failed: An unexpected TLS packet was received.",
      "tls",
      "TLS: gnutls_handshake() failed: An unexpected TLS packet was received.",
    ],
    [
      "https://git.example.test/x.git",
      "fatal: unable to access 'https://git.example.test/x.git/': Failed to connect to git.example.test port 443 after 130001 ms: Connection timed out",
      "timeout",
      "timed out talking to git.example.test",
    ],
    [
      "/srv/mirror/x.git",
      "fatal: '/srv/mirror/x.git' does not appear to be a git repository\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.",
      "not-a-repository",
      "not a git repository",
    ],
  ];
  for (const [url, stderr, kind, what] of cases) {
    const f = describeNetFailure(url, stderr);
    assert.deepEqual(f, { kind, what, text: `${what} (${url})` }, stderr);
  }
});

test("fetch()'s failures by cause code, and a response status", () => {
  assert.equal(
    describeNetFailure("http://x.invalid/a.tgz", "ENOTFOUND\ngetaddrinfo ENOTFOUND x.invalid").kind,
    "dns",
  );
  assert.equal(
    describeNetFailure("http://127.0.0.1:1/a", "ECONNREFUSED").what,
    "connection refused by 127.0.0.1:1",
  );
  assert.equal(
    describeNetFailure("https://h.example.test/a", "CERT_HAS_EXPIRED\ncertificate has expired").kind,
    "tls",
  );
  assert.equal(
    describeNetFailure("http://127.0.0.1:9/a", "no response within 0.3 s").what,
    "timed out talking to 127.0.0.1:9: no response within 0.3 s",
  );
  assert.equal(
    describeNetFailure("http://h.example.test/a", "", 404).text,
    "HTTP 404 Not Found (http://h.example.test/a)",
  );
  assert.equal(describeNetFailure("http://h.example.test/a", "", 500).what, "HTTP 500");
});
