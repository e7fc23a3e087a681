/**
 * Test support: a local OTLP/HTTP receiver (a node:http server on loopback) that decodes what the
 * OpenTelemetry exporters send with the JSON protocol (OTLP/HTTP, `application/json`; gzip if asked),
 * and flattens it into spans and counter points.
 *
 * @module
 */
import { createServer, type Server } from "node:http";
import { gunzipSync } from "node:zlib";

/** A decoded span (attributes flattened to plain values). */
export interface ReceivedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
  status?: { code?: number; message?: string };
  resource: Record<string, unknown>;
}

/** A decoded sum data point. */
export interface ReceivedPoint {
  metric: string;
  value: number;
  attributes: Record<string, unknown>;
}

/** The receiver. */
export interface OtlpReceiver {
  /** Base URL to give --otel-endpoint, e.g. http://127.0.0.1:PORT. */
  url: string;
  spans: ReceivedSpan[];
  points: ReceivedPoint[];
  /** Request paths and content types seen, in order. */
  requests: { path: string; contentType: string }[];
  /** Resolves when `pred` holds (checked after every request), or rejects after `ms`. */
  until(pred: () => boolean, ms?: number): Promise<void>;
  close(): Promise<void>;
}

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}

function flatten(attrs: { key: string; value: AnyValue }[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of attrs ?? []) {
    const v = a.value;
    out[a.key] = v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ??
      v.doubleValue ??
      v.boolValue;
  }
  return out;
}

/** Starts the receiver on 127.0.0.1 with a free port. */
export function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const points: ReceivedPoint[] = [];
  const requests: { path: string; contentType: string }[] = [];
  const waiters: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body = Buffer.concat(chunks);
      if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
      const contentType = String(req.headers["content-type"] ?? "");
      requests.push({ path: req.url ?? "", contentType });
      try {
        const doc = JSON.parse(body.toString("utf8"));
        for (const rs of doc.resourceSpans ?? []) {
          const resource = flatten(rs.resource?.attributes);
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              spans.push({
                name: s.name,
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId || undefined,
                attributes: flatten(s.attributes),
                status: s.status,
                resource,
              });
            }
          }
        }
        for (const rm of doc.resourceMetrics ?? []) {
          for (const sm of rm.scopeMetrics ?? []) {
            for (const m of sm.metrics ?? []) {
              for (const dp of m.sum?.dataPoints ?? []) {
                points.push({
                  metric: m.name,
                  value: Number(dp.asInt ?? dp.asDouble ?? 0),
                  attributes: flatten(dp.attributes),
                });
              }
            }
          }
        }
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      } catch {
        res.writeHead(400).end();
      }
      for (const w of waiters.splice(0)) w();
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      resolve({
        url: `http://127.0.0.1:${port}`,
        spans,
        points,
        requests,
        until(pred, ms = 15_000) {
          return new Promise((ok, fail) => {
            const timer = setTimeout(
              () => fail(new Error("the OTLP receiver did not get what was expected")),
              ms,
            );
            const check = () => {
              if (pred()) {
                clearTimeout(timer);
                ok();
              } else waiters.push(check);
            };
            check();
          });
        },
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}

/** The last cumulative value of a counter, summed over attribute sets (optionally filtered). */
export function counterValue(
  points: ReceivedPoint[],
  metric: string,
  where: (attributes: Record<string, unknown>) => boolean = () => true,
): number {
  // Cumulative temporality: each export repeats the totals, so take the last point per attribute set.
  const last = new Map<string, number>();
  for (const p of points) {
    if (p.metric === metric && where(p.attributes)) last.set(JSON.stringify(p.attributes), p.value);
  }
  let sum = 0;
  for (const v of last.values()) sum += v;
  return sum;
}
