/**
 * Lists a server's whole interface (tools, prompts, resources, resource templates) over a connected
 * client (initialize, or server/discover in the stateless era), asking only for what the server's
 * capabilities advertise (MCP spec "Lifecycle: Capability Negotiation").
 *
 * @module
 */
import { McpTrustError } from "../errors.ts";
import { type McpClient, ServerRpcError } from "./client.ts";
import { ErrorCode } from "./jsonrpc.ts";
import { listAll, type ListLimits, type ListMethod } from "./list.ts";
import type { McpPrompt, McpResource, McpResourceTemplate, McpTool, ServerInterface } from "./types.ts";

/**
 * Lists everything the server advertises. A list method the server advertises but answers with
 * -32601 is treated as empty (with a warning); any other error fails the scan.
 *
 * @throws {McpTrustError} on malformed items (missing name/uri), duplicate names, or listing errors
 */
export async function listInterface(
  client: McpClient,
  limits: ListLimits = {},
  onWarning: (message: string) => void = () => {},
): Promise<ServerInterface> {
  const info = client.info;
  if (!info) throw new McpTrustError("internal: listInterface called before initialize");
  const caps = info.capabilities;
  const list = async (method: ListMethod, capability: string) => {
    if (caps[capability] === undefined || caps[capability] === null) return [];
    try {
      return await listAll(client, method, limits, onWarning);
    } catch (err) {
      if (err instanceof ServerRpcError && err.code === ErrorCode.MethodNotFound) {
        onWarning(
          `server advertises "${capability}" but answered ${method} with "method not found"; treating as empty`,
        );
        return [];
      }
      if (err instanceof ServerRpcError) {
        throw new McpTrustError(`${err.message}`, {
          hint: "the server failed to list its interface; run it by hand",
        });
      }
      throw err;
    }
  };
  // Sequential on purpose: some servers do not handle concurrent requests during startup.
  const tools = keyed(await list("tools/list", "tools"), "name", "tool") as McpTool[];
  const prompts = keyed(await list("prompts/list", "prompts"), "name", "prompt") as McpPrompt[];
  const resources = keyed(await list("resources/list", "resources"), "uri", "resource") as McpResource[];
  const resourceTemplates = keyed(
    await list("resources/templates/list", "resources"),
    "uriTemplate",
    "resource template",
  ) as McpResourceTemplate[];
  return {
    serverInfo: info.serverInfo,
    protocolVersion: info.protocolVersion,
    era: info.era ?? "session",
    capabilities: caps,
    instructions: info.instructions,
    tools,
    prompts,
    resources,
    resourceTemplates,
  };
}

/** Checks every item has a string key and no key repeats (a repeated name would hide from the lockfile). */
function keyed(items: Record<string, unknown>[], key: string, what: string): Record<string, unknown>[] {
  const seen = new Set<string>();
  for (const item of items) {
    const k = item[key];
    if (typeof k !== "string" || k === "") {
      throw new McpTrustError(
        `server listed a ${what} without a ${key}: ${JSON.stringify(item).slice(0, 200)}`,
      );
    }
    if (seen.has(k)) {
      throw new McpTrustError(`server listed the ${what} ${JSON.stringify(k)} twice`, {
        hint: "two items with one name cannot be pinned apart; this is a server bug or an attack",
      });
    }
    seen.add(k);
  }
  return items;
}
