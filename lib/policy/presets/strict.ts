/**
 * The `strict` preset: every rule an error, and what cannot be shown fails. Adapted from the Go tool's
 * `internal/policy/presets/strict.yaml` (Apache-2.0; reference §8.5), keeping its intent and control_refs.
 * Adapted to this input, failing closed where the Go preset passed vacuously or wrongly:
 *
 * - the artifact and its provenance must have been verified in this run (`input.artifact`,
 *   `input.provenance`); a pin or provenance a lockfile merely records does not count;
 * - a lockfile is required (`--lock`) and its signature must verify (`--key`);
 * - drift must be computed, not absent;
 * - `file` URIs are refused among static resources as well as templates, by RFC 3986 scheme.
 *
 * @module
 */

/** The preset's YAML, parsed and compiled like any policy file. */
export const STRICT_YAML = `name: "Strict (Fail-Closed)"
mode: strict

rules:
  - name: "lockfile_signature_verified"
    expr: 'has(input.lockfile) && input.lockfile.signature == "verified"'
    failure_msg: "✗ The lockfile MUST be given (--lock) and its signature verified (--key)"
    severity: error
    control_refs:
      - "SOC2: CC8.1"
    evidence:
      - "mcp-lock.json.sig verified against the approver's public key"
    evidence_commands:
      - "mcptrust verify --key mcptrust.pub mcp-lock.json"

  - name: "artifact_pinned_required"
    expr: 'has(input.artifact) && input.artifact.integrity != ""'
    failure_msg: "✗ Artifact MUST be pinned with an integrity hash and verified in this run"
    severity: error
    control_refs:
      - "NIST AI RMF: GOVERN 1.1"
      - "SOC2: CC7.2"
      - "ISO/IEC 42001: 8.2"
    evidence:
      - "Signed mcp-lock.json with integrity hash"
      - "Artifact integrity verified before the server ran"
    evidence_commands:
      - "mcptrust verify --key mcptrust.pub mcp-lock.json"

  - name: "provenance_required"
    expr: 'has(input.provenance) && input.provenance.verified'
    failure_msg: "✗ Provenance attestation MUST be verified"
    severity: error
    control_refs:
      - "NIST AI RMF: MAP 1.1"
      - "SLSA: Build L3"
      - "EU AI Act: Article 11"
    evidence:
      - "SLSA provenance attestation verified"
      - "Build provenance in mcp-lock.json"
    evidence_commands:
      - "mcptrust policy check --preset strict --lock mcp-lock.json --key mcptrust.pub -- <server command>"

  - name: "no_high_risk_tools"
    expr: '!input.tools.exists(t, t.risk_level == "HIGH")'
    failure_msg: "✗ High-risk tools are not permitted in strict mode"
    severity: error
    control_refs:
      - "NIST AI RMF: MEASURE 2.3"
      - "ISO/IEC 42001: 9.2"
    evidence:
      - "mcptrust scan output with risk classification"
      - "Policy check pass/fail result"
    evidence_commands:
      - "mcptrust scan --format text -- <server command>"
      - "mcptrust policy check --preset strict --lock mcp-lock.json --key mcptrust.pub -- <server command>"

  - name: "tools_exist"
    expr: "size(input.tools) > 0"
    failure_msg: "✗ Server must expose at least one tool"
    severity: error
    control_refs:
      - "NIST AI RMF: GOVERN 2.1"
    evidence:
      - "mcptrust scan output listing tools"
    evidence_commands:
      - "mcptrust scan -- <server command>"

  - name: "no_critical_drift"
    expr: 'has(input.drift) && !input.drift.items.exists(x, x.severity == "critical")'
    failure_msg: "✗ CRITICAL drift detected, or no lockfile to compare with (--lock)"
    severity: error
    control_refs:
      - "NIST AI RMF: GOVERN 1.2"
      - "SOC2: CC6.1"
    evidence:
      - "mcptrust check output showing drift items"
    evidence_commands:
      - "mcptrust check --lock mcp-lock.json -- <server command>"

  - name: "no_file_scheme"
    expr: '!("file" in input.resources.schemes)'
    failure_msg: "✗ file: URIs are not allowed in strict mode — use restricted URI patterns"
    severity: error
    control_refs:
      - "NIST AI RMF: GOVERN 1.2"
      - "CIS Controls: 3.3"
    evidence:
      - "Resource and resource template listing with schemes"
    evidence_commands:
      - "mcptrust scan -- <server command>"
`;
