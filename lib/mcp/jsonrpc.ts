/**
 * JSON-RPC 2.0 message shapes and error codes as MCP uses them (MCP spec, "Base Protocol";
 * JSON-RPC 2.0 §4-5).
 *
 * @module
 */

/** A JSON-RPC id. MCP forbids null ids for requests, but hosts send them; the proxy must cope. */
export type JsonRpcId = string | number | null;

/** A JSON-RPC error object. */
export interface JsonRpcError {
  code: number;
  message: string;
  data?: unknown;
}

/** Any parsed JSON-RPC message: request (method+id), notification (method, no id) or response (id + result|error). */
export interface JsonRpcMessage {
  jsonrpc?: string;
  id?: JsonRpcId;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: JsonRpcError;
}

/** Standard and mcptrust error codes. -32001/-32002 are the Go MCPTrust's (reference §5.3). */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** mcptrust refused the request (policy). */
  Denied: -32001,
  /** mcptrust's pending-request table is full. */
  Overloaded: -32002,
} as const;

/** True if `m` is a plain object (what a JSON-RPC message must be). */
export function isObject(m: unknown): m is Record<string, unknown> {
  return typeof m === "object" && m !== null && !Array.isArray(m);
}

/** True for a request: has a string method and an `id` member (even null). */
export function isRequest(m: JsonRpcMessage): boolean {
  return typeof m.method === "string" && "id" in m;
}

/** True for a notification: has a string method and no `id` member. */
export function isNotification(m: JsonRpcMessage): boolean {
  return typeof m.method === "string" && !("id" in m);
}

/** True for a response: no method, and a result or an error. */
export function isResponse(m: JsonRpcMessage): boolean {
  return m.method === undefined && ("result" in m || "error" in m);
}

/** Serializes a JSON-RPC error response as one NDJSON line (with trailing newline). */
export function errorResponseLine(id: JsonRpcId, code: number, message: string, data?: unknown): string {
  const error: JsonRpcError = data === undefined ? { code, message } : { code, message, data };
  return JSON.stringify({ jsonrpc: "2.0", id, error }) + "\n";
}
