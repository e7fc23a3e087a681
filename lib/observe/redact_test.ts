/**
 * Redaction: what a log line, receipt or trace may show of a command line, headers, env and URLs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  isSecretName,
  redactArgv,
  REDACTED,
  redactEnv,
  redactHeaders,
  redactText,
  redactUrls,
} from "./redact.ts";

test("secret option values are redacted, in both --name value and --name=value forms", () => {
  assert.deepEqual(
    redactArgv(["--token", "abc123", "--api-key=k-1", "--password", "hunter2", "--client-secret=s"]),
    ["--token", REDACTED, `--api-key=${REDACTED}`, "--password", REDACTED, `--client-secret=${REDACTED}`],
  );
  // A following flag is not taken for the value.
  assert.deepEqual(redactArgv(["--token", "--verbose"]), ["--token", "--verbose"]);
});

test("--header / -H values lose their value, keep their name", () => {
  assert.deepEqual(
    redactArgv([
      "--header",
      "Authorization: Bearer abc.def",
      "-H",
      "X-Tenant: acme",
      "--header=X-Api-Key: k",
    ]),
    [
      "--header",
      `Authorization: ${REDACTED}`,
      "-H",
      `X-Tenant: ${REDACTED}`,
      `--header=X-Api-Key: ${REDACTED}`,
    ],
  );
});

test("an Authorization header passed as a bare argument is redacted", () => {
  assert.deepEqual(redactArgv(["curl", "Authorization: token xyz"]), ["curl", `Authorization: ${REDACTED}`]);
  assert.deepEqual(redactArgv(["Cookie: sid=1"]), [`Cookie: ${REDACTED}`]);
});

test("env assignments: upper-case names always, others when the name says secret", () => {
  assert.deepEqual(
    redactArgv(["env", "GITHUB_TOKEN=ghx", "DEBUG=1", "api_key=z", "mode=fast", "node", "s.js"]),
    [
      "env",
      `GITHUB_TOKEN=${REDACTED}`,
      `DEBUG=${REDACTED}`,
      `api_key=${REDACTED}`,
      "mode=fast",
      "node",
      "s.js",
    ],
  );
  assert.deepEqual(redactArgv(["docker", "run", "-e", "OPENAI_API_KEY=sk"]), [
    "docker",
    "run",
    "-e",
    `OPENAI_API_KEY=${REDACTED}`,
  ]);
  assert.deepEqual(redactEnv({ A: "1", B: "two", C: undefined }), { A: REDACTED, B: REDACTED });
});

test("URL userinfo and secret query parameters are redacted; the rest is kept byte for byte", () => {
  assert.equal(
    redactUrls("https://user:pa%40ss@mcp.example.com:8443/mcp?token=abc&region=eu&X-Amz-Signature=ff#top"),
    `https://${REDACTED}@mcp.example.com:8443/mcp?token=${REDACTED}&region=eu&X-Amz-Signature=${REDACTED}#top`,
  );
  assert.equal(redactUrls("https://ghp_tok@github.com/x.git"), `https://${REDACTED}@github.com/x.git`);
  assert.equal(redactUrls("see http://localhost:3000/mcp now"), "see http://localhost:3000/mcp now");
  assert.deepEqual(redactArgv(["--url", "https://a:b@h/mcp?access_token=t"]), [
    "--url",
    `https://${REDACTED}@h/mcp?access_token=${REDACTED}`,
  ]);
  assert.deepEqual(redactArgv(["--url=https://h/mcp?key=k1"]), [`--url=https://h/mcp?key=${REDACTED}`]);
});

test("well-known credential shapes are redacted wherever they stand", () => {
  const gh = "ghp_" + "a".repeat(36);
  const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig_nature-x";
  const aws = "AKIA" + "ABCDEFGHIJKLMNOP";
  assert.deepEqual(redactArgv(["node", "s.js", gh, `--x=${jwt}`, aws]), [
    "node",
    "s.js",
    REDACTED,
    `--x=${REDACTED}`,
    REDACTED,
  ]);
  assert.equal(redactText("failed with Bearer abcdefghijkl"), `failed with Bearer ${REDACTED}`);
  assert.equal(redactText(`npm_${"Z".repeat(36)} in .npmrc`), `${REDACTED} in .npmrc`);
});

test("what says where a secret is, not what it is, is kept (env var names, key file paths)", () => {
  assert.deepEqual(
    redactArgv([
      "--bearer-token-env",
      "MCP_TOKEN",
      "--key",
      "keys/mcptrust.pub",
      "-k",
      "a.pub",
      "--key-file",
      "k",
    ]),
    ["--bearer-token-env", "MCP_TOKEN", "--key", "keys/mcptrust.pub", "-k", "a.pub", "--key-file", "k"],
  );
  // A --key value that is not a path may be the key itself.
  assert.deepEqual(redactArgv(["--key", "c2VjcmV0"]), ["--key", REDACTED]);
});

test("ordinary arguments pass unchanged, and the length is kept", () => {
  const argv = [
    "lock",
    "-o",
    "fs.lock.json",
    "--",
    "npx",
    "-y",
    "@modelcontextprotocol/server-filesystem",
    "/srv",
  ];
  assert.deepEqual(redactArgv(argv), argv);
  assert.deepEqual(redactArgv(["keygen", "--keyword", "x"]), ["keygen", "--keyword", "x"]);
});

test("headers: credential and secret-named headers are redacted, others kept", () => {
  assert.deepEqual(
    redactHeaders({
      Authorization: "Bearer x",
      "mcp-session-id": "s1",
      "X-Api-Key": "k",
      Accept: "application/json",
      "mcp-protocol-version": "2025-06-18",
    }),
    {
      Authorization: REDACTED,
      "mcp-session-id": REDACTED,
      "X-Api-Key": REDACTED,
      Accept: "application/json",
      "mcp-protocol-version": "2025-06-18",
    },
  );
  const h = new Headers({ cookie: "a=b", "content-type": "text/plain" });
  assert.deepEqual(redactHeaders(h), { cookie: REDACTED, "content-type": "text/plain" });
  assert.deepEqual(redactHeaders([["Proxy-Authorization", "Basic eA=="]]), {
    "Proxy-Authorization": REDACTED,
  });
});

test("isSecretName: separators and case do not matter; near misses do not match", () => {
  for (
    const n of [
      "GITHUB_TOKEN",
      "apiKey",
      "X-API-KEY",
      "AWS_SECRET_ACCESS_KEY",
      "Authorization",
      "passwd",
      "sig",
    ]
  ) {
    assert.ok(isSecretName(n), n);
  }
  for (const n of ["keygen", "keyword", "region", "output", "format", "lock", "timeout"]) {
    assert.ok(!isSecretName(n), n);
  }
});
