/**
 * manifest.json, the bundle's table of contents: every other entry with its role, SHA-256 and size,
 * plus the tool version and the signature's canonicalization. It holds no times, paths or
 * machine-dependent values, so the same inputs give the same manifest.
 *
 * The manifest is not signed: it proves the bundle is complete and internally consistent, while the
 * lockfile's own signature proves what was approved. Only manifest.json itself is absent from `files`;
 * every other entry, README.txt included, must be listed, and nothing unlisted may be present.
 *
 * @module
 */
import * as v from "valibot";

/** Identifies this bundle layout; a reader refuses layouts it does not know. */
export const BUNDLE_FORMAT = "mcptrust-bundle/1";

/** Fixed entry names. */
export const ENTRY = {
  manifest: "manifest.json",
  lockfile: "mcp-lock.json",
  signature: "mcp-lock.json.sig",
  publicKey: "public.key",
  policy: "policy.yaml",
  readme: "README.txt",
  /** Directory for `--include` files. */
  evidenceDir: "evidence/",
} as const;

/** What an entry is. */
export type EntryRole = "lockfile" | "signature" | "public-key" | "policy" | "evidence" | "readme";

/** One listed entry. */
export interface ManifestFile {
  name: string;
  role: EntryRole;
  /** Lowercase hex SHA-256 of the entry's bytes. */
  sha256: string;
  /** Size in bytes. */
  size: number;
}

/** manifest.json. Field names are snake_case like the Go tool's manifest. */
export interface Manifest {
  format: typeof BUNDLE_FORMAT;
  tool_version: string;
  canon_version: "v1" | "v2";
  signature_type: "ed25519" | "sigstore_bundle";
  compression_method: "deflate";
  compression_level: number;
  files: ManifestFile[];
}

const HEX64 = /^[0-9a-f]{64}$/;

const ManifestSchema = v.strictObject({
  format: v.literal(BUNDLE_FORMAT),
  tool_version: v.string(),
  canon_version: v.picklist(["v1", "v2"]),
  signature_type: v.picklist(["ed25519", "sigstore_bundle"]),
  compression_method: v.literal("deflate"),
  compression_level: v.pipe(v.number(), v.integer()),
  files: v.array(v.strictObject({
    name: v.string(),
    role: v.picklist(["lockfile", "signature", "public-key", "policy", "evidence", "readme"]),
    sha256: v.pipe(v.string(), v.regex(HEX64, "must be 64 lowercase hex digits")),
    size: v.pipe(v.number(), v.integer(), v.minValue(0)),
  })),
});

/** The role a name must have: fixed names have fixed roles, `evidence/*` is evidence. */
export function roleOfName(name: string): EntryRole | undefined {
  switch (name) {
    case ENTRY.lockfile:
      return "lockfile";
    case ENTRY.signature:
      return "signature";
    case ENTRY.publicKey:
      return "public-key";
    case ENTRY.policy:
      return "policy";
    case ENTRY.readme:
      return "readme";
  }
  return name.startsWith(ENTRY.evidenceDir) && !name.slice(ENTRY.evidenceDir.length).includes("/")
    ? "evidence"
    : undefined;
}

/** manifest.json text: 2-space indent, fields in the order of {@link Manifest}, trailing newline. */
export function serializeManifest(m: Manifest): string {
  const ordered = {
    format: m.format,
    tool_version: m.tool_version,
    canon_version: m.canon_version,
    signature_type: m.signature_type,
    compression_method: m.compression_method,
    compression_level: m.compression_level,
    files: m.files.map((f) => ({ name: f.name, role: f.role, sha256: f.sha256, size: f.size })),
  };
  return JSON.stringify(ordered, null, 2) + "\n";
}

/**
 * Parses and checks manifest.json text.
 *
 * @throws {Error} with a one-line reason: not JSON, unknown format or fields, a name listed twice, or
 *   a role that does not fit the name
 */
export function parseManifest(text: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`not valid JSON (${(err as Error).message})`);
  }
  if (typeof raw === "object" && raw !== null && (raw as { format?: unknown }).format !== BUNDLE_FORMAT) {
    throw new Error(
      `unknown bundle format ${
        JSON.stringify((raw as { format?: unknown }).format ?? null)
      } (expected "${BUNDLE_FORMAT}")`,
    );
  }
  const res = v.safeParse(ManifestSchema, raw);
  if (!res.success) {
    const issue = res.issues[0];
    const path = (issue.path ?? []).map((p) => String((p as { key: unknown }).key)).join(".");
    throw new Error(`${path || "(root)"}: ${issue.message}`);
  }
  const m = res.output as Manifest;
  const names = new Set<string>();
  for (const f of m.files) {
    if (names.has(f.name)) throw new Error(`${JSON.stringify(f.name)} is listed twice`);
    names.add(f.name);
    if (roleOfName(f.name) !== f.role) {
      throw new Error(`${JSON.stringify(f.name)} cannot have role ${f.role}`);
    }
  }
  return m;
}
