/**
 * What policy rules see: `input`, built from one scan of the server, plus the lockfile (when given), its
 * signature status and the drift against it. Documented field by field, with an example rule each, in
 * docs/POLICY.md; {@link POLICY_INPUT_SHAPE} is the same description in code, which the compiler checks
 * rules against.
 *
 * Compatible with the Go tool's v3 input (reference §8.4: lockfileVersion, server.name, server.artifact,
 * artifact, prompts.names/definitions[].argumentsHash, resources.templates/schemes, drift, tools[] with
 * name, description, input_schema and risk_level), with what it lacked: tool titles, annotations, output
 * schemas and risk reasons; prompt and template details; static resources; the lockfile's signature
 * status. Honest by construction, unlike the Go tool (reference §8.3): `artifact` and `provenance` are
 * present only when verified in this run, never copied from what a lockfile claims.
 *
 * @module
 */
import type { Signer } from "../../crypto/verifier.ts";
import type { DriftReport } from "../../drift/types.ts";
import { hashPromptArguments, hashTemplate } from "../../lockfile/hashes.ts";
import type { LoadedLockfile } from "../../lockfile/load.ts";
import type { ArtifactPin, ProvenanceInfo } from "../../lockfile/types.ts";
import type { ServerInterface } from "../../mcp/types.ts";
import { assessToolRisk } from "../../scan/risk.ts";
import { S, type Shape } from "./shape.ts";

/**
 * The lockfile's signature status, honestly: `verified` only when trust material (`--key`, or a Sigstore
 * identity) was given and the signature verified; `not checked` when a `.sig` exists but nothing was given
 * to check it with; `unsigned` when there is no `.sig`. (A signature that fails to verify stops the
 * command with exit 1 before any rule runs.)
 */
export type SignatureStatus = "verified" | "not checked" | "unsigned";

const str = (doc: string) => S.f(S.string, doc);
const bool = (doc: string) => S.f(S.bool, doc);

const PROVENANCE = S.object({
  method: str('how it was verified, e.g. "cosign_slsa"'),
  predicate_type: str("in-toto predicate type of the attestation"),
  builder_id: str("the builder that produced the artifact"),
  source_repo: str("source repository the build came from"),
  source_ref: str("git ref of the build"),
  workflow_uri: str("workflow that ran the build"),
  issuer: str("OIDC issuer of the signing certificate"),
  identity: str("identity of the signing certificate"),
  verified: bool("always true here: unverified provenance is never shown"),
  verified_at: str("RFC 3339 time of verification"),
});

const ARTIFACT = S.object({
  type: str('"npm" or "oci"'),
  name: str("package name"),
  version: str("exact version"),
  registry: str("registry URL"),
  integrity: str("SRI integrity of the tarball (sha512-...)"),
  tarball_sha256: str("hex SHA-256 of the tarball, when known"),
  image: str("OCI image reference"),
  digest: str("OCI image digest"),
  provenance: S.opt(PROVENANCE, "present only when provenance was verified in this run"),
});

const HINTS = {
  readOnlyHint: "the tool does not change its environment",
  destructiveHint: "the tool may destroy data (meaningful when not read-only)",
  idempotentHint: "repeating a call has no further effect",
  openWorldHint: "the tool reaches outside systems",
} as const;

/** The `annotations` and `hints` fields of a tool (also in the proxy's call-rule `tool`). */
export const TOOL_ANNOTATION_FIELDS = {
  annotations: S.f(
    S.object({
      title: S.opt(S.string, "annotation title"),
      ...Object.fromEntries(Object.entries(HINTS).map(([k, d]) => [k, S.opt(S.bool, `${d} (as claimed)`)])),
    }),
    "the MCP tool annotations the server sent; absent keys are absent (test with has())",
  ),
  hints: S.f(
    S.object(Object.fromEntries(Object.entries(HINTS).map(([k, d]) => [k, bool(d)]))),
    "the four hints with the MCP defaults applied where the server said nothing",
  ),
};

const TOOL = S.object({
  name: str("tool name"),
  title: str('display title ("" when none)'),
  description: str('description ("" when none)'),
  input_schema: S.f(S.dyn, "inputSchema as sent (JSON Schema object), null when absent"),
  outputSchema: S.f(S.dyn, "outputSchema as sent, null when absent"),
  ...TOOL_ANNOTATION_FIELDS,
  risk_level: str('"LOW", "MEDIUM" or "HIGH" (mcptrust scan)'),
  risk_reasons: S.f(S.list(S.string), "why the tool is MEDIUM or HIGH; empty for LOW"),
});

const PROMPT = S.object({
  argumentsHash: str("hash of the arguments, as in the lockfile"),
  title: str('display title ("" when none)'),
  description: str('description ("" when none)'),
  arguments: S.f(
    S.list(S.object({
      name: str("argument name"),
      description: str('argument description ("" when none)'),
      required: bool("whether the argument is required"),
    })),
    "the prompt's arguments",
  ),
});

const TEMPLATE = S.object({
  uriTemplate: str("RFC 6570 URI template"),
  name: str('name ("" when none)'),
  title: str('display title ("" when none)'),
  description: str('description ("" when none)'),
  mimeType: str('MIME type ("" when none)'),
  templateHash: str("hash of uriTemplate and mimeType, as in the lockfile"),
});

const STATIC_RESOURCE = S.object({
  uri: str("resource URI"),
  name: str('name ("" when none)'),
  title: str('display title ("" when none)'),
  description: str('description ("" when none)'),
  mimeType: str('MIME type ("" when none)'),
});

const DRIFT_ITEM = S.object({
  type: str('drift type, e.g. "TOOL_ADDED", "TOOL_CHANGED"'),
  severity: str('"critical", "moderate" or "info"'),
  id: str("tool or prompt name, template or resource URI"),
  oldHash: str('hash in the lockfile ("" when none)'),
  newHash: str('hash of the live item ("" when none)'),
  message: str("what changed, in words"),
});

/** The shape of `input` (see docs/POLICY.md for every field with an example rule). */
export const POLICY_INPUT_SHAPE: Shape = S.object({
  argv: S.f(S.list(S.string), "the server command given after --, one element per argument"),
  server: S.f(
    S.object({
      name: str("serverInfo.name"),
      version: str('serverInfo.version ("" when none)'),
      title: str('serverInfo.title ("" when none)'),
      protocolVersion: str("the MCP protocol version the server chose"),
      instructions: str('the initialize result\'s instructions ("" when none)'),
      capabilities: S.f(S.map(S.dyn), "the server's capabilities object, e.g. tools, prompts, resources"),
      artifact: S.opt(ARTIFACT, "same as input.artifact (the Go tool's place for it)"),
    }),
    "the server, as it answered initialize",
  ),
  tools: S.f(S.list(TOOL), "tools/list, in the server's order"),
  prompts: S.f(
    S.object({
      names: S.f(S.list(S.string), "prompt names, sorted"),
      definitions: S.f(S.map(PROMPT), "prompts by name"),
    }),
    "prompts/list",
  ),
  resources: S.f(
    S.object({
      templates: S.f(S.list(TEMPLATE), "resources/templates/list, sorted by uriTemplate"),
      static: S.f(S.list(STATIC_RESOURCE), "resources/list, sorted by uri"),
      schemes: S.f(
        S.list(S.string),
        "URI schemes of static resources and templates, lowercased, sorted, without duplicates",
      ),
    }),
    "resources and resource templates",
  ),
  lockfileVersion: S.opt(S.string, 'the lockfile\'s version, e.g. "3.0" (absent without a lockfile)'),
  lockfile: S.opt(
    S.object({
      path: str("the lockfile path as given"),
      version: str('its version, e.g. "3.0"'),
      signature: str('"verified", "not checked" or "unsigned"'),
      signer: S.opt(
        S.object({
          type: str('"ed25519" or "sigstore"'),
          fingerprint: str('Ed25519 key fingerprint ("" for Sigstore)'),
          identity: str('Sigstore certificate identity ("" for Ed25519)'),
          issuer: str('Sigstore OIDC issuer ("" for Ed25519)'),
        }),
        'who signed; present only when signature is "verified"',
      ),
      artifact: S.opt(
        S.object({
          type: str('"npm", "oci" or "local"'),
          name: str("package name"),
          version: str("version"),
          registry: str("registry URL"),
          integrity: str("SRI integrity"),
          image: str("OCI image"),
          digest: str("OCI digest"),
        }),
        "the artifact pin the lockfile records: a claim, not verified in this run (no provenance here)",
      ),
    }),
    "the lockfile given with --lock (absent without one)",
  ),
  drift: S.opt(
    S.object({
      hasDrift: bool("whether anything differs from the lockfile"),
      items: S.f(S.list(DRIFT_ITEM), "each difference"),
      notCompared: S.f(S.list(S.string), "what the lockfile's version cannot compare, one sentence each"),
    }),
    "the comparison with the lockfile (absent without one)",
  ),
  artifact: S.opt(ARTIFACT, "the server's package, present only when verified in this run"),
  provenance: S.opt(PROVENANCE, "the artifact's build provenance, present only when verified in this run"),
});

/**
 * Fields that repeat another field's value, for compatibility with Go rules: alias root -> the field it
 * repeats (so `input.server.artifact.name` is `input.artifact.name`).
 */
export const POLICY_INPUT_ALIASES: Readonly<Record<string, string>> = {
  "input.server.artifact": "input.artifact",
  "input.artifact.provenance": "input.provenance",
};

/** Where the input comes from. */
export interface PolicyInputSources {
  /** The server command as given after `--`. */
  argv: readonly string[];
  /** What the live server exposes (one scan). */
  iface: ServerInterface;
  /** The lockfile, when one was given, with its signature status. */
  lockfile?: { loaded: LoadedLockfile; signature: SignatureStatus; signer?: Signer };
  /** Drift of the live server against the lockfile. */
  drift?: DriftReport;
  /**
   * The artifact actually verified in this run (package integrity checked against what runs), with its
   * provenance only if that was verified too. Nothing in mcptrust verifies artifacts during a policy check
   * yet, so callers leave this out and rules about artifacts fail, as they should.
   */
  verifiedArtifact?: ArtifactPin & { provenance?: ProvenanceInfo & { verified: true } };
}

/** A value CEL can read: plain objects, Maps, arrays, strings, numbers, booleans, null. */
export type PolicyInput = Record<string, unknown>;

const s = (v: unknown): string => (typeof v === "string" ? v : "");

/**
 * A JSON value the server or host sent (schemas, capabilities, tools/call arguments), with objects as
 * `Map`s and `undefined` as `null`. `@bufbuild/cel` reads a plain object as a map only if
 * `value.constructor.name === "Object"`, which a key named "constructor" can break; Maps have no such
 * trap. Iterative, so no nesting depth can overflow the stack.
 */
export function celJson(root: unknown): unknown {
  if (root === undefined) return null;
  if (typeof root !== "object" || root === null) return root;
  const shell = (v: object): unknown[] | Map<string, unknown> =>
    Array.isArray(v) ? new Array(v.length) : new Map();
  const out = shell(root);
  const stack: [object, unknown[] | Map<string, unknown>][] = [[root, out]];
  while (stack.length) {
    const [src, dst] = stack.pop()!;
    const entries: [string | number, unknown][] = Array.isArray(src)
      ? src.map((v, i) => [i, v])
      : Object.entries(src);
    for (const [k, v] of entries) {
      let copy = v;
      if (typeof v === "object" && v !== null) {
        copy = shell(v);
        stack.push([v, copy as unknown[] | Map<string, unknown>]);
      }
      if (Array.isArray(dst)) dst[k as number] = copy;
      else dst.set(k as string, copy);
    }
  }
  return out;
}

function schemeOf(uri: string): string | undefined {
  // RFC 3986 scheme, so "file:/etc/passwd" counts as file too (the Go tool only saw "<scheme>://").
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri);
  return m ? m[1].toLowerCase() : undefined;
}

function byKey<T>(key: (t: T) => string): (a: T, b: T) => number {
  return (a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

function artifactInput(a: ArtifactPin & { provenance?: ProvenanceInfo }): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: s(a.type),
    name: s(a.name),
    version: s(a.version),
    registry: s(a.registry),
    integrity: s(a.integrity),
    tarball_sha256: s(a.tarball_sha256),
    image: s(a.image),
    digest: s(a.digest),
  };
  if (a.provenance?.verified === true) out.provenance = provenanceInput(a.provenance);
  return out;
}

function provenanceInput(p: ProvenanceInfo): Record<string, unknown> {
  return {
    method: s(p.method),
    predicate_type: s(p.predicate_type),
    builder_id: s(p.builder_id),
    source_repo: s(p.source_repo),
    source_ref: s(p.source_ref),
    workflow_uri: s(p.workflow_uri),
    issuer: s(p.issuer),
    identity: s(p.identity),
    verified: true,
    verified_at: s(p.verified_at),
  };
}

/**
 * A tool's `annotations` (only the known keys, each only if sent with the right type) and `hints` (the
 * four hints with MCP's defaults where the server said nothing), from the annotations it sent.
 */
export function toolAnnotationInput(
  sentAnnotations: unknown,
): { annotations: Record<string, unknown>; hints: Record<string, boolean> } {
  const sent = typeof sentAnnotations === "object" && sentAnnotations !== null &&
      !Array.isArray(sentAnnotations)
    ? sentAnnotations as Record<string, unknown>
    : {};
  // Only the known keys, each with the type the spec gives it: the rest is not in the shape.
  const annotations: Record<string, unknown> = {};
  if (typeof sent.title === "string") annotations.title = sent.title;
  const hints: Record<string, boolean> = {};
  const defaults: Record<keyof typeof HINTS, boolean> = {
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: false,
    openWorldHint: true,
  };
  for (const k of Object.keys(HINTS) as (keyof typeof HINTS)[]) {
    if (typeof sent[k] === "boolean") annotations[k] = sent[k];
    hints[k] = typeof sent[k] === "boolean" ? sent[k] as boolean : defaults[k];
  }
  return { annotations, hints };
}

function toolInput(t: ServerInterface["tools"][number]): Record<string, unknown> {
  const risk = assessToolRisk(t);
  const { annotations, hints } = toolAnnotationInput(t.annotations);
  return {
    name: t.name,
    title: s(t.title),
    description: s(t.description),
    input_schema: celJson(t.inputSchema),
    outputSchema: celJson(t.outputSchema),
    annotations,
    hints,
    risk_level: risk.level,
    risk_reasons: risk.reasons,
  };
}

/**
 * Builds `input` (shape: {@link POLICY_INPUT_SHAPE}).
 *
 * @example
 * const input = buildPolicyInput({ argv, iface: await scanServer(argv, { timeoutMs: 10_000 }) });
 * compiled.evaluate({ input });
 */
export function buildPolicyInput(src: PolicyInputSources): PolicyInput {
  const { iface } = src;
  const prompts = [...iface.prompts].sort(byKey((p) => p.name));
  const definitions: Record<string, unknown> = {};
  for (const p of prompts) {
    definitions[p.name] = {
      argumentsHash: hashPromptArguments(p.arguments),
      title: s(p.title),
      description: s(p.description),
      arguments: (Array.isArray(p.arguments) ? p.arguments : []).map((a) => ({
        name: s(a?.name),
        description: s(a?.description),
        required: a?.required === true,
      })),
    };
  }
  const templates = [...iface.resourceTemplates].sort(byKey((t) => t.uriTemplate)).map((t) => ({
    uriTemplate: t.uriTemplate,
    name: s(t.name),
    title: s(t.title),
    description: s(t.description),
    mimeType: s(t.mimeType),
    templateHash: hashTemplate(t.uriTemplate, typeof t.mimeType === "string" ? t.mimeType : undefined),
  }));
  const statics = [...iface.resources].sort(byKey((r) => r.uri)).map((r) => ({
    uri: r.uri,
    name: s(r.name),
    title: s(r.title),
    description: s(r.description),
    mimeType: s(r.mimeType),
  }));
  const schemes = [
    ...new Set(
      [...statics.map((r) => r.uri), ...templates.map((t) => t.uriTemplate)]
        .map(schemeOf)
        .filter((x): x is string => x !== undefined),
    ),
  ].sort();
  const si = iface.serverInfo;
  const server: Record<string, unknown> = {
    name: s(si.name),
    version: s(si.version),
    title: s(si.title),
    protocolVersion: s(iface.protocolVersion),
    instructions: s(iface.instructions),
    capabilities: celJson(iface.capabilities ?? {}),
  };
  const input: PolicyInput = {
    argv: [...src.argv],
    server,
    tools: iface.tools.map(toolInput),
    prompts: { names: prompts.map((p) => p.name), definitions },
    resources: { templates, static: statics, schemes },
  };
  if (src.lockfile) {
    const { loaded, signature, signer } = src.lockfile;
    const version = loaded.version === "3" ? loaded.lockfile.lockFileVersion : loaded.lockfile.version;
    input.lockfileVersion = version;
    const lf: Record<string, unknown> = { path: loaded.path, version, signature };
    if (signature === "verified" && signer) {
      lf.signer = signer.type === "ed25519"
        ? { type: "ed25519", fingerprint: signer.fingerprint, identity: "", issuer: "" }
        : { type: "sigstore", fingerprint: "", identity: signer.identity, issuer: signer.issuer };
    }
    const pin = loaded.version === "3" ? loaded.lockfile.server.artifact : loaded.lockfile.artifact;
    if (pin) {
      lf.artifact = {
        type: s(pin.type),
        name: s(pin.name),
        version: s(pin.version),
        registry: s(pin.registry),
        integrity: s(pin.integrity),
        image: s(pin.image),
        digest: s(pin.digest),
      };
    }
    input.lockfile = lf;
  }
  if (src.drift) {
    input.drift = {
      hasDrift: src.drift.items.length > 0,
      items: src.drift.items.map((d) => ({
        type: d.type,
        severity: d.severity,
        id: d.identifier,
        oldHash: s(d.oldHash),
        newHash: s(d.newHash),
        message: d.message,
      })),
      notCompared: [...src.drift.notCompared],
    };
  }
  if (src.verifiedArtifact) {
    const a = artifactInput(src.verifiedArtifact);
    input.artifact = a;
    server.artifact = a;
    if (a.provenance) input.provenance = a.provenance;
  }
  return input;
}
