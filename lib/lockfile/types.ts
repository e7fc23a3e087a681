/**
 * Lockfile shapes. v3 is what we write; v1/v2 are read for compatibility (reference §2.1, §2.2).
 *
 * Field names inside v3 are the Go tool's exactly (snake_case inside `tools`, camelCase elsewhere).
 * Fields marked "extension" are what the Go tool does not lock; a Go v3 reader ignores them.
 *
 * @module
 */

/** Risk levels, as in the Go tool's lockfiles. */
export type RiskLevel = "LOW" | "MEDIUM" | "HIGH";

/** An `sha256:<64 lowercase hex>` digest, or "" where the Go tool writes an empty hash. */
export type Digest = string;

/** MCP tool annotation hints (MCP spec 2025-03-26+, `ToolAnnotations`). */
export interface AnnotationHints {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

/** A locked tool. The first three fields are the Go v3 (and v2) fields. */
export interface ToolLock {
  /** sha256 of the raw UTF-8 description (no normalization); sha256("") when absent. */
  description_hash: Digest;
  /** sha256 of canonical v1 of inputSchema; "" when the schema is absent or `{}` (Go behaviour). */
  input_schema_hash: Digest;
  risk_level: RiskLevel;
  /** Extension: normalized-string hash of the tool's title, when it has one. */
  title_hash?: Digest;
  /** Extension: canonical v1 hash of outputSchema, when present. */
  output_schema_hash?: Digest;
  /** Extension: canonical v1 hash of the whole annotations object, when present. */
  annotations_hash?: Digest;
  /** Extension: the boolean hints themselves, so drift can tell a weakening from a strengthening. */
  annotations?: AnnotationHints;
  /** Extension: every member but `name`, hashed (lib/lockfile/members.ts): nothing the host sees is unpinned. */
  members?: Record<string, Digest>;
  /** Extension: suspicious-text finding codes of name, title and description at lock time. */
  text_findings?: string[];
}

/** A locked prompt (Go v3 `prompts.definitions[name]`). */
export interface PromptLock {
  argumentsHash: Digest;
  titleHash?: Digest;
  descriptionHash?: Digest;
  /** Extension: every member but `name`, hashed. */
  members?: Record<string, Digest>;
  /** Extension: suspicious-text finding codes at lock time. */
  textFindings?: string[];
}

/** A locked resource template (Go v3 `resources.templates[]`), sorted by uriTemplate. */
export interface TemplateLock {
  uriTemplate: string;
  templateHash: Digest;
  nameHash?: Digest;
  descriptionHash?: Digest;
  mimeType?: string;
  /** Extension: every member but `uriTemplate`, hashed. */
  members?: Record<string, Digest>;
  /** Extension: suspicious-text finding codes at lock time. */
  textFindings?: string[];
}

/** Extension: a locked static resource from resources/list, sorted by uri. */
export interface StaticResourceLock {
  uri: string;
  nameHash?: Digest;
  descriptionHash?: Digest;
  mimeTypeHash?: Digest;
  /** Extension: every member but `uri`, hashed. */
  members?: Record<string, Digest>;
  /** Extension: suspicious-text finding codes at lock time. */
  textFindings?: string[];
}

/** Provenance recorded with an artifact pin (reference §2.1). */
export interface ProvenanceInfo {
  method: string;
  predicate_type?: string;
  builder_id?: string;
  source_repo?: string;
  source_ref?: string;
  workflow_uri?: string;
  issuer?: string;
  identity?: string;
  verified: boolean;
  verified_at?: string;
}

/** Extension (`lock --pin`): how the pinned npm package is started without its launcher. */
export interface NpmLaunch {
  /** The bin name the launcher would run (npx's choice from the package's `bin`). */
  bin: string;
  /** The bin's file inside the package, from its package.json `bin`, normalized (`bin/server.js`, no `./`). */
  entry: string;
  /** The server's arguments after the package in the launcher command, verbatim. */
  args: string[];
}

/**
 * Extension (`lock --pin`): one package of the pinned dependency tree, as the package manager laid it
 * out (bun.lock, npm's node_modules layout). The pinned package itself is `node_modules/<name>`.
 */
export interface PinnedDependency {
  /** Install path: `node_modules/<name>`, nested as `node_modules/<a>/node_modules/<b>`. */
  path: string;
  name: string;
  /** Exact version. */
  version: string;
  tarball_url: string;
  /** SRI of the tarball (sha512 from the registry), checked against the downloaded bytes when pinned. */
  integrity: string;
  /** Platform constraints of platform-specific packages, as in their package.json (`!` negates). */
  os?: string[];
  cpu?: string[];
  libc?: string[];
  /** True when the package is only reachable through optionalDependencies (may be skipped). */
  optional?: true;
}

/** Extension (`lock --pin`): the registry signature of the pinned version (`dist.signatures`). */
export interface RegistrySignatureRecord {
  /**
   * `verified`: an ECDSA P-256 signature over `${name}@${version}:${integrity}` verified with a registry
   * key valid at publish time; `absent`: the registry serves none; `failed`: served but not verifiable
   * (unknown keyid, or a key expired before the version was published).
   */
  status: "verified" | "absent" | "failed";
  /** The signature's keyid (the one verified, or the first one that failed). */
  keyid?: string;
  /** When the check ran, RFC 3339 UTC. */
  checked_at?: string;
}

/** An artifact pin (reference §2.1), stored under `server.artifact` in v3. */
export interface ArtifactPin {
  type: "npm" | "oci" | "local";
  name?: string;
  version?: string;
  registry?: string;
  integrity?: string;
  tarball_url?: string;
  /** sha256 of the tarball bytes, 64 lowercase hex digits (no prefix). */
  tarball_sha256?: string;
  /** Size of the tarball, in bytes. */
  tarball_size?: number;
  image?: string;
  digest?: string;
  provenance?: ProvenanceInfo;
  /** Extension (`lock --pin`, npm): how to start the package. */
  launch?: NpmLaunch;
  /** Extension (`lock --pin`, npm): the whole dependency tree, the package itself included, sorted by path. */
  dependencies?: PinnedDependency[];
  /** Extension (`lock --pin`, npm): the registry signature check. */
  registry_signature?: RegistrySignatureRecord;
  [extension: string]: unknown;
}

/**
 * Extension: the protocol era and revision a server was locked in (lib/mcp/era.ts). Written only for
 * the stateless era (`{era: "stateless", revision: "2026-07-28"}`): a lockfile without it was made from
 * an `initialize` handshake, i.e. the session era, so lockfiles of session-era servers stay byte for
 * byte what they were. A change of era is drift (SERVER_PROTOCOL_CHANGED).
 */
export interface ProtocolLock {
  era: "session" | "stateless";
  /** The revision both sides spoke, e.g. "2026-07-28". */
  revision?: string;
}

/** Lockfile v3 as written by this tool. */
export interface LockfileV3 {
  lockFileVersion: "3.0";
  meta: { generator: string; updatedAt: string };
  server: {
    name: string;
    /** Extension: serverInfo.version at lock time (a change is info-level drift). */
    version?: string;
    /** Extension: serverInfo.title and websiteUrl, kept as text so the proxy can pass the locked identity. */
    title?: string;
    websiteUrl?: string;
    /** Extension: every serverInfo member but `name`, hashed (icons, and whatever a server adds). */
    infoMembers?: Record<string, Digest>;
    /** Extension: sha256 of the initialize result's `instructions` (raw UTF-8), when the server gives them. */
    instructionsHash?: Digest;
    /** Extension: suspicious-text finding codes of the instructions at lock time. */
    instructionsFindings?: string[];
    artifact?: ArtifactPin;
    /**
     * Extension: the URL of a remote server locked with `--url`, without userinfo, query or fragment
     * (credentials are never stored). Informational: drift is judged on the interface, not the address.
     */
    url?: string;
    /** Extension: the protocol era the server spoke when locked (lib/lockfile/protocol.ts). */
    protocol?: ProtocolLock;
  };
  prompts: { definitions: Record<string, PromptLock> };
  resources: {
    templates: TemplateLock[];
    /** Extension: static resources. Absent in Go-written files (then nothing is known about them). */
    static?: StaticResourceLock[];
  };
  tools: Record<string, ToolLock>;
}

/** Lockfile v1/v2 (reference §2.1): tools only, plus the joined server command and an optional pin. */
export interface LockfileV2 {
  version: "1.0" | "2.0";
  server_command?: string;
  artifact?: ArtifactPin;
  tools: Record<string, Pick<ToolLock, "description_hash" | "input_schema_hash" | "risk_level">>;
}

/** Any lockfile this tool reads. */
export type AnyLockfile = LockfileV3 | LockfileV2;
