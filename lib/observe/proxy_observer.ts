/**
 * What the proxy tells the run about its decisions, for the receipt's counts and, with `--otel`, one
 * span per host request and the allowed/blocked/dropped counters.
 *
 * The proxy session holds an observer only when a receipt or telemetry wants one
 * (`ProxySessionOptions.observer`); without, its per-message path makes no call and allocates nothing
 * for observation. Decisions other than "forwarded" are read from the audit records (the observer wraps
 * the audit log: {@link ProxyObserver.tap}), so every refusal the log shows is counted the same way.
 *
 * Counting (docs/LOGGING.md): allowed = host requests forwarded to the server; blocked = `block` and
 * `preflight` records (host requests and notifications refused, server requests refused); dropped =
 * `drop` records (list items removed, server answers to nothing, stray cancels); would_block =
 * `would_block` records (audit-only and filter-only).
 *
 * @module
 */
import type { LogRecord } from "./log.ts";
import type { ReceiptDecisions } from "./receipt.ts";
import type { SpanHandle, Telemetry } from "./telemetry.ts";

/** The audit log's shape, as the proxy uses it. */
export interface AuditSink {
  write(record: LogRecord): void;
  close(): void;
}

/** Hooks the proxy session calls, and the summary for the receipt. */
export interface ProxyObserver {
  /** A host request went to the server under `proxyId`, with these params (read, never kept). */
  forwarded(proxyId: string, method: string, params: unknown): void;
  /** The server answered the request sent under `proxyId` (`error`: with a JSON-RPC error). */
  answered(proxyId: string, error: boolean): void;
  /** An audit log that also counts (and traces) the decisions it records. */
  tap(log: AuditSink): AuditSink;
  /** The counts so far. */
  summary(): ReceiptDecisions;
  /** Ends the spans of requests never answered. */
  close(): void;
}

/** Open request spans kept at most (a server that never answers must not grow memory). */
const MAX_OPEN_SPANS = 4096;

/** Creates an observer; with `telemetry`, it also traces and counts over OpenTelemetry. */
export function createProxyObserver(telemetry?: Telemetry): ProxyObserver {
  const counts: ReceiptDecisions = { allowed: 0, blocked: 0, dropped: 0, would_block: 0, events: {} };
  const open = new Map<string, SpanHandle>();
  /** A would_block record just written for a host request that may now be forwarded anyway. */
  let wouldBlock: LogRecord | undefined;

  const record = (r: LogRecord): void => {
    counts.events[r.event] = (counts.events[r.event] ?? 0) + 1;
    const method = typeof r.method === "string" ? r.method : undefined;
    switch (r.event) {
      case "block":
      case "preflight":
        counts.blocked++;
        wouldBlock = undefined;
        if (telemetry) {
          telemetry.count("blocked", { "mcp.method.name": method });
          if (method !== undefined) {
            const span = telemetry.startSpan(spanName(method, r.identifier), {
              ...attributes(method, r.identifier),
              "mcptrust.decision": "block",
              "mcptrust.reason": typeof r.reason === "string" ? r.reason.slice(0, 500) : undefined,
              "mcptrust.rule": typeof r.rule === "string" ? r.rule : undefined,
              "mcptrust.direction": r.direction === "server" ? "server" : "host",
            });
            span.end();
          }
        }
        return;
      case "drop":
        counts.dropped++;
        telemetry?.count("dropped", { "mcp.method.name": method });
        return;
      case "would_block":
        counts.would_block++;
        wouldBlock = r.direction === "server" ? undefined : r;
        return;
    }
  };

  return {
    forwarded(proxyId, method, params) {
      counts.allowed++;
      const audited = wouldBlock !== undefined && wouldBlock.method === method;
      const reason = audited ? wouldBlock!.reason : undefined;
      wouldBlock = undefined;
      if (!telemetry) return;
      telemetry.count("allowed", { "mcp.method.name": method });
      const tool = targetOf(method, params);
      if (open.size >= MAX_OPEN_SPANS) {
        const [oldest, span] = open.entries().next().value!;
        open.delete(oldest);
        span.end("no answer while too many requests were pending");
      }
      open.set(
        proxyId,
        telemetry.startSpan(spanName(method, tool), {
          ...attributes(method, tool),
          "mcptrust.decision": audited ? "would_block" : "allow",
          "mcptrust.reason": typeof reason === "string" ? reason.slice(0, 500) : undefined,
          "jsonrpc.request.id": proxyId,
        }),
      );
    },
    answered(proxyId, error) {
      const span = open.get(proxyId);
      if (!span) return;
      open.delete(proxyId);
      span.setAttributes({ "mcptrust.response": error ? "error" : "result" });
      span.end(error ? "the server answered with an error" : undefined);
    },
    tap(log) {
      return {
        write(r) {
          record(r);
          log.write(r);
        },
        close: () => log.close(),
      };
    },
    summary() {
      return { ...counts, events: { ...counts.events } };
    },
    close() {
      for (const span of open.values()) span.end("not answered before the proxy stopped");
      open.clear();
    },
  };
}

/** What a request is about: the tool or prompt name, or the resource URI. */
function targetOf(method: string, params: unknown): string | undefined {
  if (typeof params !== "object" || params === null) return undefined;
  const p = params as { name?: unknown; uri?: unknown };
  const t = method === "resources/read" || method.startsWith("resources/") ? p.uri : p.name;
  return typeof t === "string" ? t.slice(0, 200) : undefined;
}

/** The span name the OpenTelemetry MCP conventions give: `{mcp.method.name} {target}`. */
function spanName(method: string, target: unknown): string {
  return typeof target === "string" && target !== "" ? `${method} ${target}` : method;
}

function attributes(method: string, target: unknown): Record<string, string | undefined> {
  const t = typeof target === "string" && target !== "" ? target : undefined;
  return {
    "mcp.method.name": method,
    "gen_ai.tool.name": method === "tools/call" ? t : undefined,
    "mcptrust.identifier": method === "tools/call" ? undefined : t,
  };
}
