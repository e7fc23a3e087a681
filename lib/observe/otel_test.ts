/**
 * `--otel`: the SDK exports the run's spans and the proxy's counters over OTLP/HTTP (JSON) to a local
 * receiver; the proxy observer turns decisions into spans and counts; export failures become warnings.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startTelemetry } from "./otel.ts";
import { createProxyObserver } from "./proxy_observer.ts";
import { counterValue, startOtlpReceiver } from "./test_support.ts";

test("a command span and child request spans reach an OTLP/HTTP receiver as JSON, with counters", async () => {
  const rx = await startOtlpReceiver();
  try {
    const warnings: string[] = [];
    const { telemetry, commandSpan } = startTelemetry({
      endpoint: rx.url,
      spanName: "mcptrust proxy",
      attributes: { "mcptrust.command": "proxy", "mcptrust.op_id": "op-1" },
      onWarning: (m) => warnings.push(m),
    });
    const observer = createProxyObserver(telemetry);
    const log = observer.tap({ write() {}, close() {} });
    observer.forwarded("mcpt-1", "tools/call", { name: "echo", arguments: {} });
    observer.answered("mcpt-1", false);
    log.write({
      level: "warn",
      event: "block",
      method: "tools/call",
      identifier: "exec",
      reason: "not locked",
    });
    log.write({ level: "warn", event: "drop", reason: "response with an unknown id" });
    log.write({
      level: "warn",
      event: "would_block",
      method: "resources/read",
      identifier: "file:///x",
      reason: "r",
    });
    observer.forwarded("mcpt-2", "resources/read", { uri: "file:///x" });
    observer.close(); // mcpt-2 never answered
    commandSpan.setAttributes({ "mcptrust.exit_code": 0 });
    commandSpan.end();
    await telemetry.shutdown();

    assert.deepEqual(warnings, []);
    assert.ok(
      rx.requests.some((r) => r.path === "/v1/traces" && r.contentType.startsWith("application/json")),
    );
    assert.ok(
      rx.requests.some((r) => r.path === "/v1/metrics" && r.contentType.startsWith("application/json")),
    );
    const root = rx.spans.find((s) => s.name === "mcptrust proxy");
    assert.ok(root, "the command span");
    assert.equal(root.attributes["mcptrust.op_id"], "op-1");
    assert.equal(root.resource["service.name"], "mcptrust");
    const call = rx.spans.find((s) => s.name === "tools/call echo");
    assert.ok(call, "a span per forwarded request");
    assert.equal(call.parentSpanId, root.spanId);
    assert.equal(call.traceId, root.traceId);
    assert.equal(call.attributes["mcp.method.name"], "tools/call");
    assert.equal(call.attributes["gen_ai.tool.name"], "echo");
    assert.equal(call.attributes["mcptrust.decision"], "allow");
    assert.equal(call.attributes["mcptrust.response"], "result");
    const blocked = rx.spans.find((s) => s.name === "tools/call exec");
    assert.equal(blocked?.attributes["mcptrust.decision"], "block");
    assert.equal(blocked?.attributes["mcptrust.reason"], "not locked");
    const audited = rx.spans.find((s) => s.name === "resources/read file:///x");
    assert.equal(audited?.attributes["mcptrust.decision"], "would_block");
    assert.equal(audited?.status?.code, 2, "unanswered at the end: ERROR status");
    assert.equal(counterValue(rx.points, "mcptrust.proxy.allowed"), 2);
    assert.equal(counterValue(rx.points, "mcptrust.proxy.blocked"), 1);
    assert.equal(counterValue(rx.points, "mcptrust.proxy.dropped"), 1);
    assert.deepEqual(observer.summary(), {
      allowed: 2,
      blocked: 1,
      dropped: 1,
      would_block: 1,
      events: { block: 1, drop: 1, would_block: 1 },
    });
  } finally {
    await rx.close();
  }
});

test("an endpoint that is down gives a warning and a bounded shutdown, not a hang or a crash", async () => {
  const rx = await startOtlpReceiver();
  const dead = rx.url;
  await rx.close(); // nothing listens there now
  const warnings: string[] = [];
  const { telemetry } = startTelemetry({
    endpoint: dead,
    spanName: "mcptrust check",
    attributes: {},
    onWarning: (m) => warnings.push(m),
  });
  telemetry.count("allowed");
  await telemetry.shutdown(3000);
  assert.ok(warnings.length > 0, "the export failure is reported");
  assert.ok(warnings.every((w) => w.startsWith("OpenTelemetry: ")));
});

test("without telemetry the observer only counts", () => {
  const observer = createProxyObserver();
  const log = observer.tap({ write() {}, close() {} });
  observer.forwarded("a", "ping", undefined);
  observer.answered("a", false);
  log.write({ level: "warn", event: "preflight", method: "tools/list", reason: "drift" });
  assert.deepEqual(observer.summary(), {
    allowed: 1,
    blocked: 1,
    dropped: 0,
    would_block: 0,
    events: { preflight: 1 },
  });
});
