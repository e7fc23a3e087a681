/**
 * What the rest of mcptrust sees of OpenTelemetry: spans and counters behind a small interface, so only
 * lib/observe/otel.ts imports the SDK, and only when `--otel` is given (a dynamic import: start-up and
 * runs without `--otel` never load it).
 *
 * @module
 */

/** Span and counter attributes (OpenTelemetry attribute values). */
export type Attributes = Record<string, string | number | boolean | undefined>;

/** A started span. */
export interface SpanHandle {
  setAttributes(attributes: Attributes): void;
  /** Ends the span; with `error`, its status is ERROR with that message. Idempotent. */
  end(error?: string): void;
}

/** The proxy's decision counters (`mcptrust.proxy.<name>`). */
export type DecisionCounter = "allowed" | "blocked" | "dropped";

/** Traces and metrics of one run, exported over OTLP/HTTP. */
export interface Telemetry {
  /** Starts a span; without `parent`, under the run's command span. */
  startSpan(name: string, attributes?: Attributes, parent?: SpanHandle): SpanHandle;
  /** Adds one to a decision counter. */
  count(counter: DecisionCounter, attributes?: Attributes): void;
  /** Exports what is buffered and stops; resolves within about `timeoutMs` whatever the endpoint does. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/** Options of the OTel implementation's `startTelemetry`. */
export interface TelemetryOptions {
  /** OTLP/HTTP base URL (`/v1/traces` and `/v1/metrics` are appended). */
  endpoint: string;
  /** The command span's name, e.g. "mcptrust check". */
  spanName: string;
  attributes: Attributes;
  /** Export failures and SDK warnings, as one-line messages. */
  onWarning: (message: string) => void;
  /** How often counters are exported while the run lasts, ms. */
  metricIntervalMs?: number;
}
