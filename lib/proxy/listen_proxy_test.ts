import { test } from "node:test";
import assert from "node:assert/strict";
import { McpTrustError } from "../errors.ts";
import { isLoopbackOrigin, parseListen } from "./listen_proxy.ts";

test("--listen: PORT binds loopback; HOST:PORT and [V6]:PORT as given; anything else is exit 2", () => {
  assert.deepEqual(parseListen("8931"), { host: "127.0.0.1", port: 8931 });
  assert.deepEqual(parseListen("0"), { host: "127.0.0.1", port: 0 });
  assert.deepEqual(parseListen("localhost:80"), { host: "localhost", port: 80 });
  assert.deepEqual(parseListen("[::1]:9000"), { host: "::1", port: 9000 });
  for (const bad of ["", "nope", "1:2:3", "127.0.0.1:", "127.0.0.1:70000", ":80"]) {
    assert.throws(() => parseListen(bad), (e) => e instanceof McpTrustError && e.exitCode === 2, bad);
  }
});

test("Origin check (DNS rebinding): only loopback http(s) origins pass", () => {
  for (
    const ok of ["http://localhost:5173", "http://127.0.0.1", "https://[::1]:8443", "http://127.1.2.3:1"]
  ) {
    assert.ok(isLoopbackOrigin(ok), ok);
  }
  for (
    const bad of [
      "http://evil.example",
      "null",
      "http://localhost.evil.example",
      "file://",
      "http://10.0.0.1",
    ]
  ) {
    assert.ok(!isLoopbackOrigin(bad), bad);
  }
});
