import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  BlockedAddressError,
  fetchBytes,
  FetchError,
  fetchHardened,
  FetchNetworkError,
  type FetchOptions,
  FetchTimeoutError,
  HttpStatusError,
  RedirectRefusedError,
  type Resolver,
  ResponseTooLargeError,
  systemResolver,
  UnsafeUrlError,
} from "./fetcher.ts";
import { startHttpsServer, type TestServer, testTls } from "./test_support.ts";
import { EXIT_OPERATIONAL } from "../errors.ts";

const TOKEN = "npm_SECRETTOKEN0123456789";
let srv: TestServer;
const pending = new Set<ServerResponse>();

function route(req: IncomingMessage, res: ServerResponse, s: TestServer): void {
  const u = new URL(req.url ?? "/", "https://x");
  const p = u.pathname;
  if (p === "/ok") {
    res.writeHead(200, { "content-type": "text/plain", "content-length": "5" });
    res.end("hello");
  } else if (p === "/redirect") {
    res.writeHead(302, { location: u.searchParams.get("to") ?? "" });
    res.end();
  } else if (p.startsWith("/hop/")) {
    const n = Number(p.slice(5));
    if (n === 0) {
      res.writeHead(200, { "content-length": "3" });
      res.end("end");
    } else {
      res.writeHead(307, { location: `/hop/${n - 1}` });
      res.end();
    }
  } else if (p === "/big-declared") {
    res.writeHead(200, { "content-length": "1000000" });
    res.write("x".repeat(10));
    pending.add(res); // never finished: the client must refuse on the header alone
  } else if (p === "/big-stream") {
    res.writeHead(200, { "content-type": "application/octet-stream" }); // chunked, no length
    for (let i = 0; i < 3; i++) res.write("y".repeat(100));
    res.end();
  } else if (p === "/stall") {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    res.write("a");
    pending.add(res);
  } else if (p === "/trickle") {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    const t = setInterval(() => res.writableEnded || res.destroyed ? clearInterval(t) : res.write("b"), 20);
    res.on("close", () => clearInterval(t));
  } else if (p === "/short") {
    res.writeHead(200, { "content-length": "100" });
    res.write("z".repeat(10), () => setTimeout(() => res.socket?.destroy(), 20));
  } else if (p === "/gzip") {
    res.writeHead(200, { "content-encoding": "gzip", "content-length": "2" });
    res.end("xx");
  } else if (p === "/401") {
    res.writeHead(401, { "www-authenticate": "Bearer" });
    res.end(`no: ${req.headers.authorization ?? ""}`);
  } else if (p === "/auth") {
    res.writeHead(200, { "content-length": "2" });
    res.end("ok");
  } else {
    res.writeHead(404);
    res.end();
  }
  void s;
}

before(async () => {
  srv = await startHttpsServer(route);
});
after(async () => {
  for (const r of pending) r.destroy();
  await srv.close();
});

function opts(extra: FetchOptions = {}): FetchOptions {
  return { ca: testTls().caPem, allowHosts: ["localhost"], onWarning: () => {}, ...extra };
}

/** Maps chosen test names to fixed answers; every other name goes to the system resolver (real DNS). */
function fakeDns(map: Record<string, string[]>, calls: string[] = []): Resolver {
  return (name) => {
    calls.push(name);
    const a = map[name];
    if (!a) return systemResolver(name);
    return Promise.resolve(a.map((address) => ({ address, family: address.includes(":") ? 6 : 4 })));
  };
}

async function rejectsWith<T extends Error>(
  p: Promise<unknown>,
  cls: new (...args: never[]) => T,
  pattern?: RegExp,
): Promise<T> {
  try {
    await p;
  } catch (err) {
    assert.ok(
      err instanceof cls,
      `expected ${cls.name}, got ${(err as Error)?.name}: ${(err as Error)?.message}`,
    );
    assert.ok(err instanceof FetchError);
    assert.equal((err as FetchError).exitCode, EXIT_OPERATIONAL);
    assert.ok((err as FetchError).message.length > 0);
    if (pattern) assert.match((err as Error).message, pattern);
    return err as T;
  }
  assert.fail(`expected ${cls.name}, but the fetch succeeded`);
}

const requestsTo = (host: string) => srv.seen.filter((r) => r.host.startsWith(`${host}:`)).length;

test("fetches over https from a host in allowHosts, verified against the given CA, and warns", async () => {
  const warnings: string[] = [];
  const got = await fetchBytes(`${srv.origin()}/ok`, opts({ onWarning: (l) => warnings.push(l) }));
  assert.equal(new TextDecoder().decode(got.bytes), "hello");
  assert.equal(got.headers["content-type"], "text/plain");
  assert.equal(got.url, `${srv.origin()}/ok`);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /localhost.*loopback.*127\.0\.0\.1/);
});

test("a name that really resolves to loopback (localhost) is refused without allowHosts", async () => {
  const before = srv.seen.length;
  const err = await rejectsWith(
    fetchBytes(`${srv.origin()}/ok`, { ca: testTls().caPem }),
    BlockedAddressError,
    /localhost resolves to 127\.0\.0\.1, which is a loopback address/,
  );
  assert.equal(err.range, "loopback");
  assert.match(err.hint ?? "", /--allow-host localhost/);
  assert.equal(srv.seen.length, before, "no connection was made");
});

test("the certificate must chain to the given CA (the system roots do not know the test CA)", async () => {
  await rejectsWith(
    fetchBytes(`${srv.origin()}/ok`, { allowHosts: ["localhost"], onWarning: () => {} }),
    FetchNetworkError,
    /TLS verification failed/,
  );
});

test("http, credentials in the URL and non-URLs are refused before any connection", async () => {
  await rejectsWith(fetchBytes(`http://localhost:${srv.port}/ok`, opts()), UnsafeUrlError, /only https/);
  await rejectsWith(
    fetchBytes(`https://u:p@localhost:${srv.port}/ok`, opts()),
    UnsafeUrlError,
    /credentials/,
  );
  await rejectsWith(fetchBytes("not a url", opts()), UnsafeUrlError, /not a URL/);
  await rejectsWith(fetchBytes("file:///etc/passwd", opts()), UnsafeUrlError, /only https/);
});

test("a redirect from https to http is refused", async () => {
  const to = encodeURIComponent(`http://localhost:${srv.port}/ok`);
  const before = srv.seen.length;
  await rejectsWith(
    fetchBytes(`${srv.origin()}/redirect?to=${to}`, opts()),
    RedirectRefusedError,
    /leaves https/,
  );
  assert.equal(srv.seen.length, before + 1, "the http hop was not requested");
});

test("a redirect to a loopback or private IP literal is refused before connecting", async () => {
  for (
    const [target, range] of [
      [`https://127.0.0.1:${srv.port}/ok`, "loopback"],
      [`https://2130706433:${srv.port}/ok`, "loopback"], // the URL parser turns it into 127.0.0.1
      [`https://[::ffff:127.0.0.1]:${srv.port}/ok`, "ipv4Mapped"],
      [`https://10.1.2.3/ok`, "private"],
      [`https://169.254.169.254/latest/meta-data/`, "linkLocal"],
      [`https://[fd00::1]/ok`, "uniqueLocal"],
    ]
  ) {
    const before = requestsTo("127.0.0.1");
    const err = await rejectsWith(
      fetchBytes(`${srv.origin()}/redirect?to=${encodeURIComponent(target)}`, opts()),
      BlockedAddressError,
      /not a public one/,
    );
    assert.equal(err.range, range, target);
    assert.equal(requestsTo("127.0.0.1"), before, `${target} was not requested`);
  }
});

test("a redirect to a name that resolves to loopback or private is refused; one bad address is enough", async () => {
  const resolve = fakeDns({
    "evil.test": ["127.0.0.1"],
    "private.test": ["192.168.7.7"],
    "mixed.test": ["93.184.215.14", "127.0.0.1"], // one public, one loopback
  });
  for (
    const [name, range] of [["evil.test", "loopback"], ["private.test", "private"], [
      "mixed.test",
      "loopback",
    ]]
  ) {
    const to = encodeURIComponent(`https://${name}:${srv.port}/ok`);
    const err = await rejectsWith(
      fetchBytes(`${srv.origin()}/redirect?to=${to}`, opts({ resolve })),
      BlockedAddressError,
      new RegExp(`${name.replace(".", "\\.")} resolves to`),
    );
    assert.equal(err.range, range);
    assert.equal(requestsTo(name), 0);
  }
});

test("allowHosts matches exact names only, and lets that name through with a warning", async () => {
  const resolve = fakeDns({ "evil.test": ["127.0.0.1"] });
  await rejectsWith(
    fetchBytes(
      `https://evil.test:${srv.port}/ok`,
      opts({ resolve, allowHosts: ["test", "vil.test", "*.test"] }),
    ),
    BlockedAddressError,
  );
  const warnings: string[] = [];
  const got = await fetchBytes(
    `https://evil.test:${srv.port}/ok`,
    opts({ resolve, allowHosts: ["EVIL.test"], onWarning: (l) => warnings.push(l) }),
  );
  assert.equal(new TextDecoder().decode(got.bytes), "hello");
  assert.match(warnings.join("\n"), /evil\.test.*allowed by --allow-host/);
});

test("the socket goes to the checked address: the name is resolved once per hop (no DNS rebinding)", async () => {
  const calls: string[] = [];
  let n = 0;
  const resolve: Resolver = (name) => {
    calls.push(name);
    // First answer is the checked one; any later answer would point somewhere nothing listens.
    return Promise.resolve([{ address: n++ === 0 ? "127.0.0.1" : "127.0.0.2", family: 4 }]);
  };
  const got = await fetchBytes(
    `https://rebind.test:${srv.port}/ok`,
    opts({ resolve, allowHosts: ["rebind.test"] }),
  );
  assert.equal(new TextDecoder().decode(got.bytes), "hello");
  assert.deepEqual(calls, ["rebind.test"]);
  const seen = srv.seen.at(-1)!;
  assert.equal(seen.host, `rebind.test:${srv.port}`, "Host header keeps the name");
});

test("at most 5 redirects are followed", async () => {
  const got = await fetchBytes(`${srv.origin()}/hop/5`, opts());
  assert.equal(new TextDecoder().decode(got.bytes), "end");
  assert.equal(got.url, `${srv.origin()}/hop/0`);
  await rejectsWith(
    fetchBytes(`${srv.origin()}/hop/6`, opts()),
    RedirectRefusedError,
    /more than 5 redirects/,
  );
  await rejectsWith(fetchBytes(`${srv.origin()}/hop/2`, opts({ maxRedirects: 1 })), RedirectRefusedError);
});

test("a Content-Length over the cap is refused on the header, without waiting for the body", async () => {
  // The server sends 10 of 1000000 bytes and then stalls: reading would end in the idle timeout.
  const err = await rejectsWith(
    fetchBytes(`${srv.origin()}/big-declared`, opts({ maxBytes: 1000, idleTimeoutMs: 20_000 })),
    ResponseTooLargeError,
    /Content-Length 1000000 is over the 1000-byte cap/,
  );
  assert.equal(err.maxBytes, 1000);
});

test("a streamed body over the cap is refused while reading", async () => {
  await rejectsWith(
    fetchBytes(`${srv.origin()}/big-stream`, opts({ maxBytes: 250 })),
    ResponseTooLargeError,
    /larger than the 250-byte cap/,
  );
  const ok = await fetchBytes(`${srv.origin()}/big-stream`, opts({ maxBytes: 300 }));
  assert.equal(ok.bytes.length, 300);
});

test("a stalled body ends in the idle timeout; a trickling one in the total timeout", async () => {
  await rejectsWith(
    fetchBytes(`${srv.origin()}/stall`, opts({ idleTimeoutMs: 150 })),
    FetchTimeoutError,
    /no data for 150 ms/,
  );
  await rejectsWith(
    fetchBytes(`${srv.origin()}/trickle`, opts({ idleTimeoutMs: 5_000, timeoutMs: 300 })),
    FetchTimeoutError,
    /longer than 300 ms/,
  );
});

test("a body cut short of its Content-Length is refused", async () => {
  await rejectsWith(fetchBytes(`${srv.origin()}/short`, opts()), FetchNetworkError);
});

test("a compressed body is refused (the bytes hashed must be the bytes served)", async () => {
  await rejectsWith(fetchBytes(`${srv.origin()}/gzip`, opts()), FetchNetworkError, /Content-Encoding gzip/);
});

test("HTTP errors carry the status and never the token", async () => {
  const err = await rejectsWith(
    fetchBytes(`${srv.origin()}/401`, opts({ authToken: TOKEN })),
    HttpStatusError,
  );
  assert.equal(err.status, 401);
  assert.match(err.message, /HTTP 401/);
  assert.ok(!`${err.message} ${err.hint} ${err.stack}`.includes(TOKEN));
  const missing = await rejectsWith(fetchBytes(`${srv.origin()}/nope`, opts()), HttpStatusError);
  assert.equal(missing.status, 404);
});

test("the token goes to its own host, and is dropped on a redirect to another host and for the rest of the chain", async () => {
  srv.seen.length = 0;
  await fetchBytes(`${srv.origin()}/auth`, opts({ authToken: TOKEN }));
  assert.equal(srv.seen[0].headers.authorization, `Bearer ${TOKEN}`);

  srv.seen.length = 0;
  await fetchBytes(`${srv.origin()}/redirect?to=${encodeURIComponent("/auth")}`, opts({ authToken: TOKEN }));
  assert.deepEqual(srv.seen.map((r) => r.headers.authorization), [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);

  srv.seen.length = 0;
  const back = encodeURIComponent(`${srv.origin()}/auth`);
  const away = encodeURIComponent(`https://127.0.0.1:${srv.port}/redirect?to=${back}`);
  await fetchBytes(
    `${srv.origin()}/redirect?to=${away}`,
    opts({ authToken: TOKEN, allowHosts: ["localhost", "127.0.0.1"] }),
  );
  assert.deepEqual(
    srv.seen.map((r) => [r.host.split(":")[0], r.headers.authorization]),
    [["localhost", `Bearer ${TOKEN}`], ["127.0.0.1", undefined], ["localhost", undefined]],
  );
});

test("credentials passed as a header instead of authToken are refused", async () => {
  await assert.rejects(
    fetchBytes(`${srv.origin()}/ok`, opts({ headers: { Authorization: `Bearer ${TOKEN}` } })),
    (e: Error) => e.message.includes("authToken") && !e.message.includes(TOKEN),
  );
});

test("the streaming body can be left early, and a name that does not resolve is a network error", async () => {
  const res = await fetchHardened(`${srv.origin()}/big-stream`, opts());
  assert.equal(res.status, 200);
  for await (const chunk of res.body) {
    assert.ok(chunk.byteLength > 0);
    break;
  }
  const err = await rejectsWith(fetchBytes("https://no-such-host.invalid/x", opts()), FetchNetworkError);
  assert.equal(err.code, "ENOTFOUND");
});

test("messages show no query string (pre-signed URLs carry secrets there)", async () => {
  const err = await rejectsWith(
    fetchBytes(`https://10.0.0.1/pkg.tgz?X-Amz-Signature=${TOKEN}`, opts()),
    BlockedAddressError,
  );
  assert.ok(!err.message.includes(TOKEN));
  assert.match(err.message, /pkg\.tgz\?…/);
});
