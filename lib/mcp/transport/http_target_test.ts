import { test } from "node:test";
import assert from "node:assert/strict";
import { McpTrustError } from "../../errors.ts";
import { isLoopbackHost, parseHttpTarget, redact } from "./http_target.ts";

function refused(fn: () => unknown, pattern: RegExp): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof McpTrustError, String(err));
    assert.equal(err.exitCode, 2);
    assert.match(err.message, pattern);
    return err.message + (err.hint ?? "");
  }
  assert.fail("expected a refusal");
}

test("target: headers and the bearer token become request headers; display has no userinfo, query or fragment", () => {
  const t = parseHttpTarget({
    url: "https://alice:s3cr3t-pw@mcp.example.com:8443/v1/mcp?api_key=k-123456&x=1#frag",
    headers: ["X-Api-Key: hdr-secret-1", "X-Team:  blue team "],
    bearerTokenEnv: "MCP_TOKEN",
    env: { MCP_TOKEN: "tok-abcdef" },
  });
  assert.equal(t.display, "https://mcp.example.com:8443/v1/mcp");
  assert.equal(t.url.href, "https://mcp.example.com:8443/v1/mcp?api_key=k-123456&x=1");
  assert.deepEqual(t.headers, {
    "x-api-key": "hdr-secret-1",
    "x-team": "blue team",
    authorization: "Bearer tok-abcdef", // the bearer token wins over userinfo
  });
  for (const s of ["hdr-secret-1", "tok-abcdef", "s3cr3t-pw", "k-123456", "alice"]) {
    assert.ok(t.secrets.includes(s), s);
  }
});

test("target: userinfo becomes Basic authorization (RFC 7617) when no Authorization is given", () => {
  const t = parseHttpTarget({ url: "http://us%20er:p%40ss@127.0.0.1:3001/mcp" });
  assert.equal(t.headers.authorization, `Basic ${btoa("us er:p@ss")}`);
  assert.equal(t.url.username, "");
  assert.equal(t.display, "http://127.0.0.1:3001/mcp");
});

test("redact: header values, tokens, userinfo and query values never survive in an error text", () => {
  const t = parseHttpTarget({
    url: "http://bob:pw-9876@localhost:9/mcp?token=qtok-555",
    headers: ["X-Key: hkey-4242"],
    bearerTokenEnv: "T",
    env: { T: "btok-777" },
  });
  const leaky =
    "error sending request for url (http://bob:pw-9876@localhost:9/mcp?token=qtok-555): Bearer btok-777 X-Key: hkey-4242";
  const out = redact(leaky, t.secrets);
  for (const s of ["pw-9876", "qtok-555", "btok-777", "hkey-4242"]) assert.ok(!out.includes(s), out);
  assert.match(out, /\[redacted\]/);
  assert.equal(redact("nothing secret here", t.secrets), "nothing secret here");
});

test("target: refusals name the header or variable, never the value", () => {
  refused(() => parseHttpTarget({ url: "ftp://example.com/mcp" }), /http or https/);
  refused(() => parseHttpTarget({ url: "file:///etc/passwd" }), /http or https/);
  refused(() => parseHttpTarget({ url: "not a url" }), /not a valid URL/);
  refused(() => parseHttpTarget({ url: "http://example.com/mcp" }), /plain http to example\.com/);
  refused(() => parseHttpTarget({ url: "http://10.0.0.1/mcp" }), /plain http/);
  assert.equal(
    parseHttpTarget({ url: "http://example.com/mcp", allowInsecureHttp: true }).display,
    "http://example.com/mcp",
  );
  refused(() => parseHttpTarget({ url: "https://h/mcp", headers: ["no colon here"] }), /Name: value/);
  refused(() => parseHttpTarget({ url: "https://h/mcp", headers: ["Bad Name: v"] }), /Name: value/);
  refused(() => parseHttpTarget({ url: "https://h/mcp", headers: ["Mcp-Session-Id: x"] }), /manages it/);
  refused(() => parseHttpTarget({ url: "https://h/mcp", headers: ["Accept: x"] }), /manages it/);
  refused(() => parseHttpTarget({ url: "https://h/mcp", headers: ["A: 1", "a: 2"] }), /twice/);
  const msg = refused(
    () => parseHttpTarget({ url: "https://h/mcp", headers: ["X-Key: hidden-value\r\nInjected: 1"] }),
    /line break/,
  );
  assert.ok(!msg.includes("hidden-value"));
  refused(
    () => parseHttpTarget({ url: "https://h/mcp", bearerTokenEnv: "UNSET_VAR", env: {} }),
    /UNSET_VAR is not set/,
  );
  refused(
    () => parseHttpTarget({ url: "https://h/mcp", bearerTokenEnv: "T", env: { T: "  " } }),
    /T is not set or empty/,
  );
  refused(
    () =>
      parseHttpTarget({
        url: "https://h/mcp",
        headers: ["Authorization: Basic eA=="],
        bearerTokenEnv: "T",
        env: { T: "tok" },
      }),
    /not both/,
  );
});

test("loopback: localhost, 127/8, ::1 and IPv4-mapped loopback; nothing else", () => {
  for (const h of ["localhost", "LOCALHOST", "127.0.0.1", "127.9.9.9", "[::1]", "[::ffff:127.0.0.1]"]) {
    assert.ok(isLoopbackHost(h), h);
  }
  for (
    const h of [
      "example.com",
      "localhost.example.com",
      "10.0.0.1",
      "0.0.0.0",
      "[::]",
      "[fe80::1]",
      "128.0.0.1",
    ]
  ) {
    assert.ok(!isLoopbackHost(h), h);
  }
});
