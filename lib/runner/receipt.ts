/**
 * The verification record of `run --lock`: what was verified before the server ran (the lockfile's sha256
 * and signer, every package's integrity as verified and where the bytes came from, the tree, the launch,
 * the sandbox, the time). `run --receipt FILE` writes it in the run's receipt (lib/observe/receipt.ts,
 * schema `mcptrust.receipt/1`, written atomically when the run ends, also when it fails) under
 * `details.run`.
 *
 * Schema `mcptrust.run-verification/1`; fields are only ever added within a version. Environment values
 * are not recorded (they may be secrets), only names.
 *
 * @module
 */
import { McpTrustError } from "../errors.ts";
import type { Signer } from "../crypto/verifier.ts";
import type { InstalledPackage, InstalledTree } from "./install.ts";
import type { RunPlan } from "./run_plan.ts";

/** The record's schema identifier. */
export const RUN_VERIFICATION_SCHEMA = "mcptrust.run-verification/1";

/** How the lockfile's signature was settled. */
export interface ReceiptSignature {
  status: "verified" | "not checked" | "unsigned";
  signer?: Signer;
}

/** The sandbox, as applied. */
export interface ReceiptSandbox {
  applied: boolean;
  /** `bubblewrap` when applied. */
  kind?: "bubblewrap";
  bwrap?: string;
  /** `cut` (no network namespace access), `allowed` (--allow-net), or `unrestricted` (no sandbox). */
  network: "cut" | "allowed" | "unrestricted";
  writable: string[];
  readable: string[];
  /** Why there is none, when not applied. */
  reason?: string;
}

/** A package as recorded. */
export interface ReceiptPackage {
  path: string;
  name: string;
  version: string;
  /** The pinned SRI the bytes were verified against. */
  integrity: string;
  /** sha256 hex of the tarball bytes verified. */
  sha256: string;
  size: number;
  /** download, cache (hashed this run), tree (extracted tree checked this run against its manifest). */
  verified_from: InstalledPackage["source"];
}

/** The record. */
export interface RunVerification {
  schema: typeof RUN_VERIFICATION_SCHEMA;
  /** When verification finished (RFC 3339, UTC). */
  verified_at: string;
  dry_run: boolean;
  lockfile: { path: string; sha256: string };
  signature: ReceiptSignature;
  package: ReceiptPackage & {
    tarball_url: string;
    registry?: string;
    /** The registry signature check `lock --pin` recorded (not repeated at run time). */
    registry_signature_at_pin?: { status: string; keyid?: string };
  };
  dependencies: ReceiptPackage[];
  skipped: { path: string; name: string; version: string; reason: string }[];
  tree: { key: string; dir: string; reused: boolean };
  launch: { bin: string; entry: string; args: string[]; runtime: string; argv: string[]; cwd: string };
  environment: string[];
  sandbox: ReceiptSandbox;
  proxy: { enabled: boolean; mode?: string; fail_on?: string };
}

/** Inputs of {@link buildRunVerification}. */
export interface RunVerificationInputs {
  now?: Date;
  dryRun: boolean;
  lockfile: { path: string; sha256: string };
  signature: ReceiptSignature;
  plan: RunPlan;
  tree: InstalledTree;
  launch: RunVerification["launch"];
  environment: readonly string[];
  sandbox: ReceiptSandbox;
  proxy: RunVerification["proxy"];
}

function record(p: InstalledPackage): ReceiptPackage {
  return {
    path: p.path,
    name: p.name,
    version: p.version,
    integrity: p.integrity,
    sha256: p.sha256,
    size: p.size,
    verified_from: p.source,
  };
}

/** Assembles the record. */
export function buildRunVerification(i: RunVerificationInputs): RunVerification {
  const byPath = new Map(i.tree.packages.map((p) => [p.path, p]));
  const root = byPath.get(i.plan.root.path);
  if (!root) throw new McpTrustError("internal: the server package is missing from the installed tree");
  return {
    schema: RUN_VERIFICATION_SCHEMA,
    verified_at: (i.now ?? new Date()).toISOString(),
    dry_run: i.dryRun,
    lockfile: i.lockfile,
    signature: i.signature,
    package: {
      ...record(root),
      tarball_url: i.plan.root.tarballUrl,
      registry: i.plan.registry,
      ...(i.plan.registrySignature ? { registry_signature_at_pin: i.plan.registrySignature } : {}),
    },
    dependencies: i.plan.packages.filter((p) => !p.root).map((p) => record(byPath.get(p.path)!)),
    skipped: i.plan.skipped.map((s) => ({ ...s })),
    tree: { key: i.tree.key, dir: i.tree.root, reused: i.tree.source === "cache" },
    launch: i.launch,
    environment: [...i.environment].sort(),
    sandbox: i.sandbox,
    proxy: i.proxy,
  };
}
