/**
 * Validation of every tools/call against the tool's approved schemas (MCP spec 2025-06-18 "Tools":
 * `inputSchema`, and `outputSchema` with `structuredContent`): arguments before the server sees them,
 * structured results before the host sees them. A runtime guard the Go tool does not have (seed 004).
 *
 * "Approved" means the schema of a tool the proxy verified against the lockfile: the lockfile holds the
 * schema's hash, and an item is only verified when the live schema hashes the same, so the schema a
 * verified item carries is the locked one. Validators are compiled once per tool and schema hash
 * (ajv: draft 2020-12 by default, as MCP 2025-11-25 specifies; draft-07 when the schema's `$schema`
 * says so) and reused for every call.
 *
 * Fails closed: a schema that does not compile makes calls to that tool fail with a reason, until the
 * operator turns validation off (`--no-validate-args`, `--no-validate-results`).
 *
 * @module
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import { hashJson } from "../lockfile/hashes.ts";
import { isObject } from "../mcp/jsonrpc.ts";

/** A validation outcome: `ok`, or the reason (one line, names the tool and the first errors). */
export type GuardVerdict = { ok: true } | { ok: false; reason: string };

const OK: GuardVerdict = { ok: true };
const DRAFT_07 = /^https?:\/\/json-schema\.org\/draft-07\/schema#?$/;

interface Compiled {
  hash: string;
  validate?: ValidateFunction;
  /** Why the schema could not be compiled (calls then fail closed). */
  error?: string;
}

/** Options of a {@link SchemaGuard}. */
export interface SchemaGuardOptions {
  /** Validate tools/call arguments against inputSchema. Default true. */
  args?: boolean;
  /** Validate structuredContent against outputSchema. Default true. */
  results?: boolean;
}

/**
 * Holds the compiled validators of the verified tools.
 *
 * @example
 * const guard = new SchemaGuard();
 * guard.learn([{ name: "read_file", inputSchema: { type: "object", required: ["path"] } }]);
 * guard.checkArgs("read_file", {}); // { ok: false, reason: 'arguments of tool "read_file" ...' }
 */
export class SchemaGuard {
  readonly args: boolean;
  readonly results: boolean;
  readonly #input = new Map<string, Compiled>();
  readonly #output = new Map<string, Compiled>();
  #ajv2020?: Ajv2020;
  #ajv7?: Ajv;

  constructor(opts: SchemaGuardOptions = {}) {
    this.args = opts.args ?? true;
    this.results = opts.results ?? true;
  }

  /**
   * Compiles the schemas of tools the proxy has verified (call it with verified items only). A tool
   * whose schemas did not change keeps its compiled validators.
   *
   * @returns one warning per schema that does not compile
   */
  learn(tools: readonly Record<string, unknown>[]): string[] {
    const warnings: string[] = [];
    for (const tool of tools) {
      if (typeof tool.name !== "string") continue;
      if (this.args) {
        const w = this.#compile(this.#input, tool.name, tool.inputSchema, "input");
        if (w) warnings.push(w);
      }
      if (this.results) {
        if (tool.outputSchema === undefined) this.#output.delete(tool.name);
        else {
          const w = this.#compile(this.#output, tool.name, tool.outputSchema, "output");
          if (w) warnings.push(w);
        }
      }
    }
    return warnings;
  }

  /**
   * Checks a tools/call's arguments (`params.arguments`; absent means `{}`). A tool the guard has not
   * learned passes here: the policy core has already refused calls to tools not shown verified.
   */
  checkArgs(tool: string, args: unknown): GuardVerdict {
    if (!this.args) return OK;
    const c = this.#input.get(tool);
    if (!c) return OK;
    if (!c.validate) return { ok: false, reason: `tool ${JSON.stringify(tool)} ${c.error}` };
    const value = args === undefined ? {} : args;
    if (c.validate(value)) return OK;
    return {
      ok: false,
      reason: `arguments of tool ${JSON.stringify(tool)} do not match its approved input schema: ${
        describe(c.validate.errors)
      }`,
    };
  }

  /** True when results of `tool` are validated (it declares an outputSchema). */
  checksResult(tool: string): boolean {
    return this.results && this.#output.has(tool);
  }

  /**
   * Checks a tools/call result: a tool with an outputSchema must return `structuredContent` that
   * validates against it, unless the result is an error (`isError: true`), which carries none.
   */
  checkResult(tool: string, result: unknown): GuardVerdict {
    if (!this.results) return OK;
    const c = this.#output.get(tool);
    if (!c) return OK;
    if (isObject(result) && result.isError === true) return OK;
    if (!c.validate) return { ok: false, reason: `tool ${JSON.stringify(tool)} ${c.error}` };
    const structured = isObject(result) ? result.structuredContent : undefined;
    if (structured === undefined) {
      return {
        ok: false,
        reason: `tool ${
          JSON.stringify(tool)
        } declares an output schema but its result has no structuredContent`,
      };
    }
    if (c.validate(structured)) return OK;
    return {
      ok: false,
      reason: `the result of tool ${JSON.stringify(tool)} does not match its approved output schema: ${
        describe(c.validate.errors)
      }`,
    };
  }

  #compile(into: Map<string, Compiled>, name: string, schema: unknown, which: string): string | undefined {
    let hash: string;
    try {
      hash = hashJson(schema);
    } catch {
      hash = "\u0000unhashable";
    }
    if (into.get(name)?.hash === hash) return undefined;
    if (schema === undefined || schema === null) {
      // MCP requires inputSchema; a tool without one takes no constraints we could check.
      into.delete(name);
      return undefined;
    }
    try {
      if (!isObject(schema) && typeof schema !== "boolean") throw new Error("it is not a JSON Schema object");
      const draft7 = isObject(schema) && typeof schema.$schema === "string" && DRAFT_07.test(schema.$schema);
      const validate = draft7 ? this.#draft7().compile(schema) : this.#draft2020().compile(schema);
      into.set(name, { hash, validate });
      return undefined;
    } catch (err) {
      const error = `has an ${which} schema that cannot be compiled (${
        oneLine((err as Error).message)
      }); calls are refused until it is fixed, or run with --no-validate-${
        which === "input" ? "args" : "results"
      }`;
      into.set(name, { hash, error });
      return `tool ${JSON.stringify(name)} ${error}`;
    }
  }

  #draft2020(): Ajv2020 {
    return this.#ajv2020 ??= new Ajv2020(AJV_OPTIONS);
  }

  #draft7(): Ajv {
    return this.#ajv7 ??= new Ajv(AJV_OPTIONS);
  }
}

/**
 * The guard the proxy flags ask for: `--no-validate-args` and `--no-validate-results` turn each check
 * off, and with both off there is no guard (nothing is compiled, nothing runs per call).
 *
 * @example
 * schemaGuardFor({ validateArgs: true, validateResults: false }); // a guard that checks arguments only
 */
export function schemaGuardFor(
  flags: { validateArgs: boolean; validateResults: boolean },
): SchemaGuard | undefined {
  if (!flags.validateArgs && !flags.validateResults) return undefined;
  return new SchemaGuard({ args: flags.validateArgs, results: flags.validateResults });
}

/**
 * strict: false, because servers emit schemas with keywords ajv's strict mode rejects (e.g. unknown
 * annotations); validateFormats: false, because `format` is an annotation in draft 2020-12 and servers
 * use formats ajv does not know. addUsedSchema: false, so a schema's `$id` never collides across tools.
 */
const AJV_OPTIONS = {
  strict: false,
  allErrors: false,
  validateFormats: false,
  addUsedSchema: false,
} as const;

function describe(errors: ErrorObject[] | null | undefined): string {
  if (!errors?.length) return "invalid";
  return errors.slice(0, 3).map((e) => `${e.instancePath || "(root)"} ${e.message ?? "is invalid"}`).join(
    "; ",
  );
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").slice(0, 200);
}
