/**
 * Validation of lockfiles read from disk (valibot). Unknown fields are allowed (a newer writer may add
 * extensions); known fields must have the right shape, and hashes must look like hashes.
 *
 * @module
 */
import * as v from "valibot";

const DIGEST = v.pipe(v.string(), v.regex(/^sha256:[0-9a-f]{64}$/, "must be sha256:<64 lowercase hex>"));
const DIGEST_OR_EMPTY = v.union([v.literal(""), DIGEST], 'must be "" or sha256:<64 lowercase hex>');
const MEMBERS = v.optional(v.record(v.string(), DIGEST));
const FINDINGS = v.optional(v.array(v.string()));
const RISK = v.picklist(["LOW", "MEDIUM", "HIGH"], "must be LOW, MEDIUM or HIGH");

const HINTS = v.looseObject({
  readOnlyHint: v.optional(v.boolean()),
  destructiveHint: v.optional(v.boolean()),
  idempotentHint: v.optional(v.boolean()),
  openWorldHint: v.optional(v.boolean()),
});

const TOOL = v.looseObject({
  description_hash: DIGEST,
  input_schema_hash: DIGEST_OR_EMPTY,
  risk_level: RISK,
  title_hash: v.optional(DIGEST),
  output_schema_hash: v.optional(DIGEST),
  annotations_hash: v.optional(DIGEST),
  annotations: v.optional(HINTS),
  members: MEMBERS,
  text_findings: FINDINGS,
});

const PLATFORM = v.optional(v.array(v.string()));

const ARTIFACT = v.looseObject({
  type: v.picklist(["npm", "oci", "local"]),
  name: v.optional(v.string()),
  version: v.optional(v.string()),
  registry: v.optional(v.string()),
  integrity: v.optional(v.string()),
  tarball_url: v.optional(v.string()),
  tarball_sha256: v.optional(
    v.pipe(v.string(), v.regex(/^(sha256:)?[0-9a-f]{64}$/, "must be 64 lowercase hex digits")),
  ),
  tarball_size: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  launch: v.optional(v.looseObject({ bin: v.string(), entry: v.string(), args: v.array(v.string()) })),
  dependencies: v.optional(v.array(v.looseObject({
    path: v.pipe(v.string(), v.regex(/^node_modules\//, "must start with node_modules/")),
    name: v.string(),
    version: v.string(),
    tarball_url: v.string(),
    integrity: v.string(),
    os: PLATFORM,
    cpu: PLATFORM,
    libc: PLATFORM,
    optional: v.optional(v.literal(true)),
  }))),
  registry_signature: v.optional(v.looseObject({
    status: v.picklist(["verified", "absent", "failed"]),
    keyid: v.optional(v.string()),
    checked_at: v.optional(v.string()),
  })),
});

/** Lockfile v3 (reference §2.2) with this tool's optional extensions. */
export const LockfileV3Schema = v.looseObject({
  lockFileVersion: v.literal("3.0"),
  meta: v.looseObject({ generator: v.string(), updatedAt: v.string() }),
  server: v.looseObject({
    name: v.string(),
    version: v.optional(v.string()),
    title: v.optional(v.string()),
    websiteUrl: v.optional(v.string()),
    infoMembers: MEMBERS,
    instructionsHash: v.optional(DIGEST),
    instructionsFindings: FINDINGS,
    artifact: v.optional(ARTIFACT),
    url: v.optional(v.string()),
    protocol: v.optional(v.looseObject({
      era: v.picklist(["session", "stateless"], 'must be "session" or "stateless"'),
      revision: v.optional(v.string()),
    })),
  }),
  prompts: v.looseObject({
    definitions: v.record(
      v.string(),
      v.looseObject({
        argumentsHash: DIGEST,
        titleHash: v.optional(DIGEST),
        descriptionHash: v.optional(DIGEST),
        members: MEMBERS,
        textFindings: FINDINGS,
      }),
    ),
  }),
  resources: v.looseObject({
    templates: v.array(v.looseObject({
      uriTemplate: v.string(),
      templateHash: DIGEST,
      nameHash: v.optional(DIGEST),
      descriptionHash: v.optional(DIGEST),
      mimeType: v.optional(v.string()),
      members: MEMBERS,
      textFindings: FINDINGS,
    })),
    static: v.optional(v.array(v.looseObject({
      uri: v.string(),
      nameHash: v.optional(DIGEST),
      descriptionHash: v.optional(DIGEST),
      mimeTypeHash: v.optional(DIGEST),
      members: MEMBERS,
      textFindings: FINDINGS,
    }))),
  }),
  tools: v.record(v.string(), TOOL),
});

/** Lockfile v1/v2 (reference §2.1). */
export const LockfileV2Schema = v.looseObject({
  version: v.picklist(["1.0", "2.0"]),
  server_command: v.optional(v.string()),
  artifact: v.optional(ARTIFACT),
  tools: v.record(
    v.string(),
    v.looseObject({ description_hash: DIGEST, input_schema_hash: DIGEST_OR_EMPTY, risk_level: RISK }),
  ),
});

/** Formats valibot issues as "path: message" lines, at most `max`. */
export function formatIssues(issues: readonly v.BaseIssue<unknown>[], max = 5): string {
  const lines = issues.slice(0, max).map((i) => {
    const path = (i.path ?? []).map((p) => String((p as { key: unknown }).key)).join(".");
    return `${path || "(root)"}: ${i.message}`;
  });
  if (issues.length > max) lines.push(`... and ${issues.length - max} more`);
  return lines.join("; ");
}
