/**
 * The Streamable HTTP client against a scripted HTTP server, for what server-everything never does
 * (redirects, endpoint events to other origins, oversize answers, ended sessions) and to see the exact
 * headers each request carries. The happy paths against the real server are in e2e/remote_test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { McpTrustError } from "../../errors.ts";
import { withHttpServer } from "../http_session.ts";
import { parseHttpTarget } from "./http_target.ts";

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: unknown;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: unknown, seen: Seen[]) => void;

async function serve(handler: Handler): Promise<{ base: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (c: Uint8Array) => text += new TextDecoder().decode(c));
    req.on("end", () => {
      const body = text ? JSON.parse(text) : undefined;
      seen.push({ method: req.method!, path: req.url!, headers: req.headers, body });
      handler(req, res, body, seen);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    base: `http://127.0.0.1:${port}`,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

const INIT_RESULT = {
  protocolVersion: "2025-06-18",
  capabilities: { tools: {} },
  serverInfo: { name: "scripted", version: "1" },
};

function json(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(value));
}

test("Streamable HTTP: session id and negotiated version on later requests, a server request answered by POST, DELETE at the end", async () => {
  const srv = await serve((req, res, body, seen) => {
    const msg = body as Record<string, unknown> | undefined;
    if (req.method === "DELETE") return void res.writeHead(200).end();
    if (msg?.method === "initialize") {
      return json(res, 200, { jsonrpc: "2.0", id: msg.id, result: INIT_RESULT }, {
        "mcp-session-id": "sess-1",
      });
    }
    if (msg?.method === "tools/list") {
      // SSE: a server-to-client request first, the response after the client has answered it.
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(`event: message\nid: e1\ndata: {"jsonrpc":"2.0","id":"s-1","method":"ping"}\n\n`);
      const timer = setInterval(() => {
        if (seen.some((s) => (s.body as { id?: unknown })?.id === "s-1")) {
          clearInterval(timer);
          // Multi-line data: the JSON split over two data lines.
          res.end(
            `data: {"jsonrpc":"2.0","id":${
              JSON.stringify(msg.id)
            },\ndata: "result":{"tools":[{"name":"t","inputSchema":{"type":"object"}}]}}\n\n`,
          );
        }
      }, 5);
      return;
    }
    res.writeHead(202).end();
  });
  try {
    const target = parseHttpTarget({ url: `${srv.base}/mcp`, headers: ["X-Key: secret-value"] });
    const tools = await withHttpServer(target, { timeoutMs: 5000 }, async (client) => {
      await client.initialize();
      return await client.request("tools/list", {});
    });
    assert.deepEqual(tools, { tools: [{ name: "t", inputSchema: { type: "object" } }] });
    const [init, initialized, list, pong, del] = srv.seen;
    assert.equal(init.headers.accept, "application/json, text/event-stream");
    assert.equal(init.headers["content-type"], "application/json");
    assert.equal(init.headers["x-key"], "secret-value");
    assert.equal(init.headers["mcp-session-id"], undefined);
    assert.equal((initialized.body as { method: string }).method, "notifications/initialized");
    for (const later of [initialized, list, pong, del]) {
      assert.equal(later.headers["mcp-session-id"], "sess-1");
      assert.equal(later.headers["mcp-protocol-version"], "2025-06-18");
    }
    assert.deepEqual(pong.body, { jsonrpc: "2.0", id: "s-1", result: {} });
    assert.equal(del.method, "DELETE");
  } finally {
    await srv.close();
  }
});

test("Streamable HTTP: a redirect is not followed; an answer over the cap, an HTTP 500 and an ended session fail with one line", async () => {
  let phase = "";
  const srv = await serve((req, res, body) => {
    const msg = body as Record<string, unknown> | undefined;
    if (req.url === "/redirect") return void res.writeHead(307, { location: "/mcp?token=leak" }).end();
    if (phase === "big") {
      return json(res, 200, { jsonrpc: "2.0", id: msg?.id, result: { pad: "x".repeat(5000) } });
    }
    if (phase === "500") {
      return json(res, 500, { jsonrpc: "2.0", id: null, error: { code: -32603, message: "boom" } });
    }
    if (msg?.method === "initialize") {
      return json(res, 200, { jsonrpc: "2.0", id: msg.id, result: INIT_RESULT }, { "mcp-session-id": "s" });
    }
    if (msg?.method === "tools/list") return void res.writeHead(404).end();
    res.writeHead(202).end();
  });
  const attempt = async (
    path: string,
    fn?: (c: Parameters<Parameters<typeof withHttpServer>[2]>[0]) => Promise<unknown>,
  ) => {
    try {
      await withHttpServer(parseHttpTarget({ url: srv.base + path }), {
        timeoutMs: 5000,
        maxMessageBytes: 1000,
      }, async (c) => {
        await c.initialize();
        await fn?.(c);
      });
    } catch (err) {
      assert.ok(err instanceof McpTrustError, String(err));
      return err.message;
    }
    assert.fail("expected a failure");
  };
  try {
    const redirected = await attempt("/redirect");
    assert.match(redirected, /redirected initialize \(HTTP 307 to http:\/\/127\.0\.0\.1:\d+\/mcp\)/);
    assert.doesNotMatch(redirected, /leak/);
    phase = "big";
    assert.match(await attempt("/mcp"), /over the 1000-byte message limit/);
    phase = "500";
    assert.match(await attempt("/mcp"), /answered initialize with HTTP 500: boom/);
    phase = "";
    assert.match(
      await attempt("/mcp", (c) => c.request("tools/list", {})),
      /ended the MCP session \(HTTP 404/,
    );
  } finally {
    await srv.close();
  }
});

test("HTTP+SSE fallback: POST initialize 4xx, then GET; an endpoint event naming another origin is refused", async () => {
  let endpoint = "/messages?session=1";
  let stream: ServerResponse | undefined;
  const srv = await serve((req, res, body) => {
    const msg = body as Record<string, unknown> | undefined;
    if (req.url === "/sse" && req.method === "POST") return void res.writeHead(405).end();
    if (req.url === "/sse" && req.method === "GET") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(`event: endpoint\ndata: ${endpoint}\n\n`);
      stream = res;
      return;
    }
    if (req.url?.startsWith("/messages") && msg) {
      res.writeHead(202).end("Accepted");
      if (msg.method === "initialize") {
        stream!.write(
          `event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", id: msg.id, result: INIT_RESULT })}\n\n`,
        );
      }
      if (msg.method === "tools/list") {
        stream!.write(
          `event: message\ndata: ${
            JSON.stringify({ jsonrpc: "2.0", id: msg.id, result: { tools: [] } })
          }\n\n`,
        );
      }
      return;
    }
    res.writeHead(404).end();
  });
  try {
    const target = parseHttpTarget({ url: `${srv.base}/sse`, headers: ["Authorization: Bearer tok-12345"] });
    const r = await withHttpServer(target, { timeoutMs: 5000 }, async (c) => {
      await c.initialize();
      return await c.request("tools/list", {});
    });
    assert.deepEqual(r, { tools: [] });
    const posts = srv.seen.filter((s) => s.path.startsWith("/messages"));
    assert.deepEqual(posts.map((p) => (p.body as { method?: string }).method), [
      "initialize",
      "notifications/initialized",
      "tools/list",
    ]);
    assert.ok(posts.every((p) => p.headers.authorization === "Bearer tok-12345"));

    endpoint = "http://evil.example/messages";
    await assert.rejects(
      withHttpServer(target, { timeoutMs: 5000 }, (c) => c.initialize()),
      (err) => err instanceof McpTrustError && /another origin \(http:\/\/evil\.example\)/.test(err.message),
    );
    assert.ok(!srv.seen.some((s) => s.path.includes("evil")));
  } finally {
    stream?.end();
    await srv.close();
  }
});
