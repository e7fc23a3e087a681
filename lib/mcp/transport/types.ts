/**
 * The one interface every client-side transport offers (stdio, Streamable HTTP, the old HTTP+SSE), so
 * the MCP client and the proxy session, which speak in JSON-RPC message texts, never fork per transport.
 *
 * @module
 */
import type { McpTrustError } from "../../errors.ts";

/** What a transport reports to its owner. */
export interface TransportHandlers {
  /**
   * One message (or batch) from the server, as JSON text on one line: no CR or LF (insignificant
   * whitespace inside the JSON is turned into spaces), so it can be written to stdio as it is.
   */
  onMessage(text: string): void;
  /** A message from the server passed the size cap and was dropped. */
  onOversize(bytes: number): void;
  /**
   * A request could not be delivered, or its answer was lost (connection refused or dropped, HTTP error,
   * stream closed before the response). `idText` is the request's id as JSON text.
   */
  onRequestError(idText: string, error: McpTrustError): void;
  /** The server or the session is gone for good. Called at most once. */
  onClose(reason: string): void;
}

/** A client-side connection to one MCP server. */
export interface McpTransport {
  /** Starts delivering; call once, before the first {@link send}. */
  start(handlers: TransportHandlers): void;
  /** Sends one serialized JSON-RPC message (a trailing newline is allowed and ignored by HTTP). */
  send(message: string): void;
  /** Ends the session (stdio: stop the process; HTTP: DELETE the session and drop the streams). */
  close(): Promise<void>;
}

/**
 * Makes a JSON text one line: raw CR and LF can only be insignificant whitespace in valid JSON (inside
 * strings they must be escaped), so turning them into spaces keeps every value, ids byte for byte.
 */
export function oneLine(text: string): string {
  return text.includes("\n") || text.includes("\r") ? text.replace(/[\r\n]/g, " ") : text;
}
