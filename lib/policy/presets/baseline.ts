/**
 * The `baseline` preset: warn-only advice plus one hard rule (no critical drift). Adapted from the Go
 * tool's `internal/policy/presets/baseline.yaml` (Apache-2.0; reference §8.5), keeping its intent and
 * control_refs, with two changes for this input: the artifact pin is read from the lockfile (where a pin
 * is recorded; `input.artifact` is only present when verified in this run), and a warning for a lockfile
 * whose signature was not verified.
 *
 * @module
 */

/** The preset's YAML, parsed and compiled like any policy file. */
export const BASELINE_YAML = `name: "Baseline (Warn-Only)"
mode: warn

rules:
  - name: "lockfile_signature_verified"
    expr: 'has(input.lockfile) && input.lockfile.signature == "verified"'
    failure_msg: "⚠ Lockfile signature not verified — sign it (mcptrust sign) and pass --key to check it"
    severity: warn
    control_refs:
      - "SOC2: CC8.1"
    evidence:
      - "mcp-lock.json.sig verified against the approver's public key"
    evidence_commands:
      - "mcptrust verify --key mcptrust.pub mcp-lock.json"

  - name: "artifact_pinned"
    expr: 'has(input.lockfile) && has(input.lockfile.artifact) && input.lockfile.artifact.integrity != ""'
    failure_msg: "⚠ Artifact is not pinned — recommend pinning the server's package in the lockfile (mcptrust lock --pin)"
    severity: warn
    control_refs:
      - "NIST AI RMF: GOVERN 1.1"
      - "SOC2: CC7.2"
    evidence:
      - "Signed mcp-lock.json with integrity hash"
    evidence_commands:
      - "mcptrust verify --key mcptrust.pub mcp-lock.json"

  - name: "provenance_present"
    expr: 'has(input.provenance) && input.provenance.verified'
    failure_msg: "⚠ Provenance not verified in this run — recommend verifying the package's build provenance"
    severity: warn
    control_refs:
      - "NIST AI RMF: MAP 1.1"
      - "SLSA: Build L2"
    evidence:
      - "SLSA provenance attestation verified"
    evidence_commands:
      - "mcptrust policy check --preset baseline --lock mcp-lock.json -- <server command>"

  - name: "no_high_risk_tools"
    expr: '!input.tools.exists(t, t.risk_level == "HIGH")'
    failure_msg: "⚠ High-risk tools detected — review before production use"
    severity: warn
    control_refs:
      - "NIST AI RMF: MEASURE 2.3"
      - "ISO/IEC 42001: 9.2"
    evidence:
      - "mcptrust scan output with risk classification"
    evidence_commands:
      - "mcptrust scan --format text -- <server command>"
      - "mcptrust policy check --preset baseline -- <server command>"

  - name: "no_critical_drift"
    expr: '!has(input.drift) || !input.drift.hasDrift || !input.drift.items.exists(x, x.severity == "critical")'
    failure_msg: "✗ CRITICAL drift detected — lockfile is out of sync with server"
    severity: error
    control_refs:
      - "NIST AI RMF: GOVERN 1.2"
      - "SOC2: CC6.1"
    evidence:
      - "mcptrust check output showing drift items"
    evidence_commands:
      - "mcptrust check --lock mcp-lock.json -- <server command>"
`;
