/**
 * The MCP items mcptrust reads from list results (MCP spec 2025-06-18, "Server Features"). Only the
 * fields mcptrust looks at are typed; everything else the server sends is kept as is.
 *
 * @module
 */

/** A tool from tools/list (MCP `Tool`). */
export interface McpTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: unknown;
  outputSchema?: unknown;
  annotations?: Record<string, unknown>;
  [k: string]: unknown;
}

/** A prompt from prompts/list (MCP `Prompt`). */
export interface McpPrompt {
  name: string;
  title?: string;
  description?: string;
  arguments?: { name: string; description?: string; required?: boolean }[];
  [k: string]: unknown;
}

/** A static resource from resources/list (MCP `Resource`). */
export interface McpResource {
  uri: string;
  name?: string;
  title?: string;
  description?: string;
  mimeType?: string;
  [k: string]: unknown;
}

/** A resource template from resources/templates/list (MCP `ResourceTemplate`). */
export interface McpResourceTemplate {
  uriTemplate: string;
  name?: string;
  title?: string;
  description?: string;
  mimeType?: string;
  [k: string]: unknown;
}

/** Everything a server exposes, as listed. */
export interface ServerInterface {
  serverInfo: { name: string; version?: string; [k: string]: unknown };
  /** The revision the listing spoke: negotiated by initialize, or (stateless era) chosen from discover. */
  protocolVersion: string;
  /**
   * The era the server was listed in (lib/mcp/era.ts): "stateless" when it answered server/discover,
   * "session" after initialize. Absent means "session" (every listing before the stateless era).
   */
  era?: "session" | "stateless";
  capabilities: Record<string, unknown>;
  instructions?: string;
  tools: McpTool[];
  prompts: McpPrompt[];
  resources: McpResource[];
  resourceTemplates: McpResourceTemplate[];
}
