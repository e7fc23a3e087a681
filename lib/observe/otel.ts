/**
 * `--otel`: traces and counters over OTLP/HTTP (JSON encoding) with the OpenTelemetry JS SDK. Imported
 * only with `import()` when `--otel` is given (lib/observe/run.ts): nothing here is loaded otherwise.
 *
 * - Traces: one span per command (`mcptrust <command>`, attributes `mcptrust.command`, `mcptrust.op_id`,
 *   `mcptrust.exit_code`), and in the proxy one child span per host request (lib/observe/proxy_observer.ts).
 *   Batched (BatchSpanProcessor), exported at the end of the run and every few seconds while it lasts.
 * - Metrics: the counters `mcptrust.proxy.allowed`, `mcptrust.proxy.blocked`, `mcptrust.proxy.dropped`
 *   (monotonic sums, attribute `mcp.method`), exported periodically and at the end.
 *
 * The exporters read the standard `OTEL_EXPORTER_OTLP_*` variables (headers, timeouts); the endpoint
 * comes from `--otel-endpoint`, else `OTEL_EXPORTER_OTLP_ENDPOINT`, else http://localhost:4318.
 *
 * @module
 */
import {
  context,
  type Counter,
  diag,
  DiagLogLevel,
  type Span,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { VERSION } from "../version.ts";
import type { Attributes, DecisionCounter, SpanHandle, Telemetry, TelemetryOptions } from "./telemetry.ts";

/** The instrumentation scope name of our tracer and meter. */
const SCOPE = "mcptrust";

function clean(attributes: Attributes | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  if (attributes) { for (const [k, v] of Object.entries(attributes)) if (v !== undefined) out[k] = v; }
  return out;
}

function handle(span: Span): SpanHandle & { span: Span } {
  let ended = false;
  return {
    span,
    setAttributes(a) {
      if (!ended) span.setAttributes(clean(a));
    },
    end(error) {
      if (ended) return;
      ended = true;
      if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
      span.end();
    },
  };
}

/**
 * Starts the tracer and meter providers and the run's command span.
 *
 * @returns the run's telemetry and its command span
 */
export function startTelemetry(opts: TelemetryOptions): { telemetry: Telemetry; commandSpan: SpanHandle } {
  const base = opts.endpoint.replace(/\/+$/, "");
  // Export failures reach the SDK's diag logger; route warnings and errors to our log, once each.
  const seen = new Set<string>();
  const report = (...args: unknown[]) => {
    const msg = args.map((a) =>
      a instanceof Error ? a.message : typeof a === "string" ? a : JSON.stringify(a)
    )
      .join(" ").slice(0, 500);
    if (!seen.has(msg)) {
      seen.add(msg);
      opts.onWarning(`OpenTelemetry: ${msg}`);
    }
  };
  diag.setLogger(
    { error: report, warn: report, info: () => {}, debug: () => {}, verbose: () => {} },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  const resource = resourceFromAttributes({ "service.name": "mcptrust", "service.version": VERSION });
  const tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces` }), {
        scheduledDelayMillis: 2000,
      }),
    ],
  });
  const reader = new PeriodicExportingMetricReader({
    exporter: new OTLPMetricExporter({ url: `${base}/v1/metrics` }),
    exportIntervalMillis: opts.metricIntervalMs ?? 15_000,
  });
  const meterProvider = new MeterProvider({ resource, readers: [reader] });
  const tracer = tracerProvider.getTracer(SCOPE, VERSION);
  const meter = meterProvider.getMeter(SCOPE, VERSION);
  const counters: Record<DecisionCounter, Counter> = {
    allowed: meter.createCounter("mcptrust.proxy.allowed", {
      description: "host requests forwarded to the server",
    }),
    blocked: meter.createCounter("mcptrust.proxy.blocked", {
      description: "host messages refused by the proxy",
    }),
    dropped: meter.createCounter("mcptrust.proxy.dropped", {
      description: "messages dropped by the proxy (answers to no pending request, stray cancels)",
    }),
  };
  const commandSpan = handle(tracer.startSpan(opts.spanName, { attributes: clean(opts.attributes) }));
  const telemetry: Telemetry = {
    startSpan(name, attributes, parent) {
      const p = (parent as { span?: Span } | undefined)?.span ?? commandSpan.span;
      return handle(
        tracer.startSpan(name, { attributes: clean(attributes) }, trace.setSpan(context.active(), p)),
      );
    },
    count(counter, attributes) {
      counters[counter].add(1, clean(attributes));
    },
    async shutdown(timeoutMs = 5000) {
      commandSpan.end();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"late">((r) => timer = setTimeout(() => r("late"), timeoutMs));
      const done = Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
      const r = await Promise.race([done, late]);
      clearTimeout(timer);
      if (r === "late") {
        opts.onWarning(`OpenTelemetry: export to ${base} did not finish within ${timeoutMs} ms`);
      }
      diag.disable();
    },
  };
  return { telemetry, commandSpan };
}
