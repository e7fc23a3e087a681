/**
 * Paginated listing (MCP spec "Utilities: Pagination"): follow `nextCursor` until it is absent, with a
 * page cap, an item cap and cursor-loop detection, so a hostile or buggy server cannot keep us listing
 * forever or exhaust memory. The same in both eras: a stateless client's requests carry the envelope
 * (lib/mcp/client.ts adds it), and its results `resultType`, `ttlMs` and `cacheScope` (checked here).
 *
 * @module
 */
import { McpTrustError } from "../errors.ts";
import type { McpClient } from "./client.ts";

/** The four list methods and the result key holding their items. */
export const LIST_METHODS = {
  "tools/list": "tools",
  "prompts/list": "prompts",
  "resources/list": "resources",
  "resources/templates/list": "resourceTemplates",
} as const;

/** A list method name. */
export type ListMethod = keyof typeof LIST_METHODS;

/** Limits for {@link listAll}. */
export interface ListLimits {
  /** Most pages followed. Default 500. */
  maxPages?: number;
  /** Most items accepted in total. Default 10 000 (the Go tool's cap). */
  maxItems?: number;
}

/**
 * Lists every item of `method`, following nextCursor.
 *
 * @returns the items as the server sent them (objects; non-object items are dropped with a warning)
 * @throws {McpTrustError} on a cursor loop, too many pages or items, or a malformed page
 * @throws {ServerRpcError} if the server answers with a JSON-RPC error
 */
export async function listAll(
  client: McpClient,
  method: ListMethod,
  limits: ListLimits = {},
  onWarning?: (message: string) => void,
): Promise<Record<string, unknown>[]> {
  const key = LIST_METHODS[method];
  const maxPages = limits.maxPages ?? 500;
  const maxItems = limits.maxItems ?? 10_000;
  const items: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 1;; page++) {
    const result = await client.request(method, cursor === undefined ? {} : { cursor });
    if (typeof result !== "object" || result === null || Array.isArray(result)) {
      throw new McpTrustError(`server's ${method} result (page ${page}) is not an object`);
    }
    const r = result as Record<string, unknown>;
    // 2026-07-28: every result says what it is; a list is always "complete" (only tools/call, prompts/get
    // and resources/read may ask for input). The cache hints ttlMs and cacheScope steer client caches
    // and are not part of the interface.
    if (r.resultType !== undefined && r.resultType !== "complete") {
      throw new McpTrustError(
        `server's ${method} result has resultType ${
          JSON.stringify(r.resultType)
        }; a list result must be "complete"`,
      );
    }
    if (page === 1 && client.era === "stateless") {
      if (r.resultType === undefined) {
        onWarning?.(`server's ${method} result has no resultType (2026-07-28 requires it)`);
      }
      if (
        r.ttlMs !== undefined && !(Number.isSafeInteger(r.ttlMs) && (r.ttlMs as number) >= 0) ||
        r.cacheScope !== undefined && r.cacheScope !== "public" && r.cacheScope !== "private"
      ) {
        onWarning?.(`server's ${method} result has malformed cache hints (ttlMs, cacheScope)`);
      }
    }
    const list = r[key];
    if (list !== undefined && !Array.isArray(list)) {
      throw new McpTrustError(`server's ${method} result has "${key}" that is not an array`);
    }
    for (const item of (list ?? []) as unknown[]) {
      if (typeof item !== "object" || item === null || Array.isArray(item)) {
        onWarning?.(`skipped a non-object item in ${method}`);
        continue;
      }
      items.push(item as Record<string, unknown>);
    }
    if (items.length > maxItems) {
      throw new McpTrustError(`server's ${method} returned more than ${maxItems} items; refusing to go on`, {
        hint: "a server this large is unusual; check that it is the one you meant to scan",
      });
    }
    const next = r.nextCursor;
    if (next === undefined || next === null || next === "") return items;
    if (typeof next !== "string") throw new McpTrustError(`server's ${method} nextCursor is not a string`);
    if (seen.has(next)) {
      throw new McpTrustError(
        `server's ${method} pagination loops: cursor ${JSON.stringify(next.slice(0, 64))} came back twice`,
        { hint: "the server's pagination is broken; report it to the server's authors" },
      );
    }
    if (page >= maxPages) {
      throw new McpTrustError(`server's ${method} has more than ${maxPages} pages; refusing to go on`);
    }
    seen.add(next);
    cursor = next;
  }
}
