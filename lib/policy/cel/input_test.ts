/**
 * What rules see: every field of the policy input, used by at least one rule with a known result, against
 * a lockfile that is really written, signed and verified; honesty of artifact, provenance and signature
 * status; docs/POLICY.md documents every field.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CheckFailedError } from "../../errors.ts";
import { compareLockfile } from "../../drift/compare.ts";
import { buildLockfile } from "../../lockfile/build.ts";
import { readLockfile, serializeLockfile } from "../../lockfile/load.ts";
import { encodePublicKey, generateKeyPair } from "../../crypto/keys.ts";
import { parseSignedDocument } from "../../crypto/signed_document.ts";
import { signLockfile } from "../../crypto/signer.ts";
import type { ServerInterface } from "../../mcp/types.ts";
import { CelCompiler } from "./compiler.ts";
import { buildPolicyInput, POLICY_INPUT_ALIASES, POLICY_INPUT_SHAPE, type PolicyInput } from "./input.ts";
import { readSignedLockfile } from "./policy_check.ts";
import { fieldPaths } from "./shape.ts";

const ARGV = ["node", "server.js", "--root=/srv/my data"];

/** The live server: what a scan of a small server with one of everything returns. */
function liveInterface(): ServerInterface {
  return {
    serverInfo: { name: "fixture", version: "1.2.3", title: "Fixture Server" },
    protocolVersion: "2025-06-18",
    capabilities: { tools: { listChanged: true }, prompts: {}, resources: {} },
    instructions: "Use the tools carefully.",
    tools: [
      {
        name: "read_file",
        title: "Read file",
        description: "Read a file from the workspace",
        inputSchema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
        outputSchema: { type: "object", properties: { text: { type: "string" } } },
        annotations: { title: "Read", readOnlyHint: true, openWorldHint: false },
      },
      {
        name: "exec_shell",
        description: "Run a shell command",
        inputSchema: { type: "object", properties: { command: { type: "string" } } },
        annotations: { destructiveHint: true },
      },
    ],
    prompts: [{
      name: "review",
      title: "Code review",
      description: "Review code for bugs",
      arguments: [{ name: "code", description: "the code", required: true }],
    }],
    resources: [{
      uri: "file:///etc/hosts",
      name: "hosts",
      title: "Hosts",
      description: "the hosts file",
      mimeType: "text/plain",
    }],
    resourceTemplates: [{
      uriTemplate: "db://tables/{name}",
      name: "table",
      title: "Table",
      description: "a table",
      mimeType: "application/json",
    }],
  };
}

/** What was approved: no exec_shell, an older read_file description. */
function approvedInterface(): ServerInterface {
  const iface = liveInterface();
  iface.tools = [{ ...iface.tools[0], description: "Read a file" }];
  return iface;
}

const ARTIFACT = {
  type: "npm" as const,
  name: "@acme/fixture",
  version: "1.2.3",
  registry: "https://registry.npmjs.org",
  integrity: "sha512-AAAA",
  provenance: { method: "cosign_slsa", verified: true, source_repo: "https://github.com/acme/fixture" },
};

interface Fixture {
  dir: string;
  lockPath: string;
  fingerprint: string;
  /** With a verified signature, drift, and the lockfile's recorded (unverified) pin. */
  locked: PolicyInput;
  /** As if the artifact and its provenance had been verified in this run. */
  verified: PolicyInput;
}

let cached: Fixture | undefined;

/** Locks, signs and verifies for real, once. */
async function fixture(): Promise<Fixture> {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), "mcptrust-policy-input-"));
  const lockPath = join(dir, "mcp-lock.json");
  const lock = buildLockfile(approvedInterface(), {
    generator: "mcptrust test",
    updatedAt: "2026-01-01T00:00:00Z",
    artifact: ARTIFACT,
  });
  writeFileSync(lockPath, serializeLockfile(lock));
  const key = generateKeyPair();
  const doc = parseSignedDocument(new Uint8Array(readFileSync(lockPath)), lockPath);
  const sig = await signLockfile(doc, "v1", { type: "ed25519", key, keySource: "test" });
  writeFileSync(`${lockPath}.sig`, sig.envelope);
  writeFileSync(join(dir, "mcptrust.pub"), encodePublicKey(key.publicKey));
  const signed = await readSignedLockfile(lockPath, { trust: { key: join(dir, "mcptrust.pub") } });
  const iface = liveInterface();
  const drift = compareLockfile(signed.loaded, iface);
  const locked = buildPolicyInput({ argv: ARGV, iface, lockfile: signed, drift });
  const verified = buildPolicyInput({
    argv: ARGV,
    iface,
    lockfile: signed,
    drift,
    verifiedArtifact: {
      type: "npm",
      name: "@acme/fixture",
      version: "1.2.3",
      registry: "https://registry.npmjs.org",
      integrity: "sha512-AAAA",
      tarball_sha256: "ab".repeat(32),
      provenance: {
        method: "cosign_slsa",
        predicate_type: "https://slsa.dev/provenance/v1",
        builder_id: "https://github.com/actions/runner",
        source_repo: "https://github.com/acme/fixture",
        source_ref: "refs/tags/v1.2.3",
        workflow_uri: ".github/workflows/release.yml",
        issuer: "https://token.actions.githubusercontent.com",
        identity: "https://github.com/acme/fixture/.github/workflows/release.yml@refs/tags/v1.2.3",
        verified: true,
        verified_at: "2026-01-01T00:00:00Z",
      },
    },
  });
  cached = { dir, lockPath, fingerprint: key.publicKey.fingerprint, locked, verified };
  return cached;
}

/** [expression, expected result, which input]. Every input field appears in at least one. */
const CASES: [string, boolean, "locked" | "verified"][] = [
  ['input.argv[0] == "node" && input.argv.exists(a, a.contains(" "))', true, "locked"],
  ['input.server.name == "fixture" && input.server.version == "1.2.3"', true, "locked"],
  ['input.server.title == "Fixture Server"', true, "locked"],
  ['input.server.protocolVersion >= "2025-03-26"', true, "locked"],
  ['input.server.instructions.matches("(?i)ignore (all )?previous")', false, "locked"],
  [
    "has(input.server.capabilities.tools) && input.server.capabilities.tools.listChanged == true",
    true,
    "locked",
  ],
  ["has(input.server.artifact)", false, "locked"],
  ['input.server.artifact.name == "@acme/fixture"', true, "verified"],
  ["size(input.tools) == 2", true, "locked"],
  ['input.tools.exists(t, t.name == "exec_shell")', true, "locked"],
  ['input.tools.exists(t, t.title == "Read file") && input.tools.exists(t, t.title == "")', true, "locked"],
  ['input.tools.all(t, t.description != "")', true, "locked"],
  ["input.tools.exists(t, has(t.input_schema.properties.command))", true, "locked"],
  ["input.tools.filter(t, t.outputSchema != null).size() == 1", true, "locked"],
  ['input.tools.exists(t, has(t.annotations.title) && t.annotations.title == "Read")', true, "locked"],
  ["input.tools.exists(t, has(t.annotations.readOnlyHint) && t.annotations.readOnlyHint)", true, "locked"],
  [
    "input.tools.exists(t, has(t.annotations.destructiveHint) && t.annotations.destructiveHint)",
    true,
    "locked",
  ],
  ["input.tools.exists(t, has(t.annotations.idempotentHint))", false, "locked"],
  ["input.tools.exists(t, has(t.annotations.openWorldHint) && !t.annotations.openWorldHint)", true, "locked"],
  ['input.tools.filter(t, t.hints.readOnlyHint).map(t, t.name) == ["read_file"]', true, "locked"],
  [
    'input.tools.filter(t, !t.hints.readOnlyHint && t.hints.destructiveHint).map(t, t.name) == ["exec_shell"]',
    true,
    "locked",
  ],
  ["input.tools.all(t, !t.hints.idempotentHint)", true, "locked"],
  ['input.tools.filter(t, t.hints.openWorldHint).map(t, t.name) == ["exec_shell"]', true, "locked"],
  ['!input.tools.exists(t, t.risk_level == "HIGH")', false, "locked"],
  ['input.tools.exists(t, t.risk_reasons.exists(r, r.contains("command execution")))', true, "locked"],
  ['input.prompts.names == ["review"]', true, "locked"],
  ['input.prompts.definitions["review"].argumentsHash.startsWith("sha256:")', true, "locked"],
  [
    'input.prompts.definitions.review.title == "Code review" && input.prompts.definitions.review.description.contains("bugs")',
    true,
    "locked",
  ],
  [
    'input.prompts.definitions.exists(n, input.prompts.definitions[n].arguments.exists(a, a.name == "code" && a.required && a.description == "the code"))',
    true,
    "locked",
  ],
  [
    'input.resources.templates.exists(t, t.uriTemplate == "db://tables/{name}" && t.name == "table" && t.title == "Table" && t.description == "a table" && t.mimeType == "application/json" && t.templateHash.startsWith("sha256:"))',
    true,
    "locked",
  ],
  [
    'input.resources.static.exists(r, r.uri.startsWith("file:") && r.name == "hosts" && r.title == "Hosts" && r.description != "" && r.mimeType == "text/plain")',
    true,
    "locked",
  ],
  ['input.resources.schemes == ["db", "file"]', true, "locked"],
  ['!("file" in input.resources.schemes)', false, "locked"],
  ['input.lockfileVersion == "3.0"', true, "locked"],
  ['input.lockfile.path.endsWith("mcp-lock.json") && input.lockfile.version == "3.0"', true, "locked"],
  ['input.lockfile.signature == "verified"', true, "locked"],
  [
    'input.lockfile.signer.type == "ed25519" && input.lockfile.signer.fingerprint == "FINGERPRINT" && input.lockfile.signer.identity == "" && input.lockfile.signer.issuer == ""',
    true,
    "locked",
  ],
  [
    'input.lockfile.artifact.type == "npm" && input.lockfile.artifact.name == "@acme/fixture" && input.lockfile.artifact.version == "1.2.3" && input.lockfile.artifact.registry.startsWith("https://") && input.lockfile.artifact.integrity.startsWith("sha512-") && input.lockfile.artifact.image == "" && input.lockfile.artifact.digest == ""',
    true,
    "locked",
  ],
  ["input.drift.hasDrift", true, "locked"],
  [
    'input.drift.items.exists(x, x.type == "TOOL_ADDED" && x.severity == "critical" && x.id == "exec_shell" && x.oldHash == "" && x.message.contains("exec_shell"))',
    true,
    "locked",
  ],
  [
    'input.drift.items.exists(x, x.id == "read_file" && x.oldHash != x.newHash && x.newHash.startsWith("sha256:"))',
    true,
    "locked",
  ],
  ["size(input.drift.notCompared) == 0", true, "locked"],
  ["has(input.artifact) || has(input.provenance)", false, "locked"],
  [
    'input.artifact.type == "npm" && input.artifact.name == "@acme/fixture" && input.artifact.version == "1.2.3" && input.artifact.registry != "" && input.artifact.integrity == "sha512-AAAA" && size(input.artifact.tarball_sha256) == 64 && input.artifact.image == "" && input.artifact.digest == ""',
    true,
    "verified",
  ],
  [
    'input.artifact.provenance.verified && input.artifact.provenance.method == "cosign_slsa"',
    true,
    "verified",
  ],
  [
    'input.provenance.method == "cosign_slsa" && input.provenance.predicate_type.contains("slsa") && input.provenance.builder_id != "" && input.provenance.source_repo == "https://github.com/acme/fixture" && input.provenance.source_ref == "refs/tags/v1.2.3" && input.provenance.workflow_uri.endsWith("release.yml") && input.provenance.issuer == "https://token.actions.githubusercontent.com" && input.provenance.identity.startsWith("https://github.com/acme/") && input.provenance.verified && input.provenance.verified_at != ""',
    true,
    "verified",
  ],
];

/** Each leaf of an alias equals the field it repeats, in the input where both are present. */
function aliasCases(): [string, boolean, "verified"][] {
  const paths = fieldPaths(POLICY_INPUT_SHAPE, "input");
  const out: [string, boolean, "verified"][] = [];
  for (const [alias, target] of Object.entries(POLICY_INPUT_ALIASES)) {
    for (const p of paths.filter((p) => p.startsWith(alias + "."))) {
      out.push([`${p} == ${target}${p.slice(alias.length)}`, true, "verified"]);
    }
  }
  return out;
}

const ALL_CASES = [...CASES, ...aliasCases()];

test("each input field gives the expected result in a rule", async () => {
  const fx = await fixture();
  const compiler = new CelCompiler();
  for (const [expr, expected, which] of ALL_CASES) {
    const source = expr.replace("FINGERPRINT", fx.fingerprint);
    const out = compiler.compile(source, { input: POLICY_INPUT_SHAPE }).evaluate({ input: fx[which] });
    assert.deepEqual(out.ok ? out.value : out.error, expected, source);
  }
});

test("every documented input field is used by at least one rule test", () => {
  const compiler = new CelCompiler();
  const used = new Set<string>();
  for (const [expr] of ALL_CASES) {
    for (const f of compiler.compile(expr, { input: POLICY_INPUT_SHAPE }).fieldsUsed) used.add(f);
  }
  const missing = fieldPaths(POLICY_INPUT_SHAPE, "input").filter((p) => !used.has(p));
  assert.deepEqual(missing, []);
});

test("docs/POLICY.md documents every input field", () => {
  const doc = readFileSync(new URL("../../../docs/POLICY.md", import.meta.url), "utf8");
  // An alias's subfields are documented by the alias and the field it repeats.
  const documented = (p: string): boolean => {
    const alias = Object.keys(POLICY_INPUT_ALIASES).find((a) => p.startsWith(a + "."));
    return alias
      ? documented(alias) && documented(POLICY_INPUT_ALIASES[alias] + p.slice(alias.length))
      : doc.includes("`" + p + "`");
  };
  const missing = fieldPaths(POLICY_INPUT_SHAPE, "input").filter((p) => !documented(p));
  assert.deepEqual(missing, []);
});

test("a pin and provenance the lockfile only records are never input.artifact or input.provenance", async () => {
  const fx = await fixture();
  // The lockfile says provenance.verified: true (the Go tool's presets passed on exactly this).
  const recorded = readLockfile(fx.lockPath);
  assert.equal(recorded.version === "3" && recorded.lockfile.server.artifact?.provenance?.verified, true);
  const compiler = new CelCompiler();
  const goProvenanceRule =
    "has(input.artifact) && has(input.artifact.provenance) && input.artifact.provenance.verified == true";
  const out = compiler.compile(goProvenanceRule, { input: POLICY_INPUT_SHAPE }).evaluate({
    input: fx.locked,
  });
  assert.deepEqual(out, { ok: true, value: false, cost: out.cost });
  assert.equal(
    "provenance" in (fx.locked.lockfile as Record<string, Record<string, unknown>>).artifact,
    false,
  );
});

test("signature status: unsigned without a .sig, not checked without a key, verified with one", async () => {
  const fx = await fixture();
  const dir = mkdtempSync(join(tmpdir(), "mcptrust-policy-sig-"));
  const bare = join(dir, "bare.json");
  writeFileSync(bare, readFileSync(fx.lockPath));
  assert.equal((await readSignedLockfile(bare)).signature, "unsigned");
  assert.equal((await readSignedLockfile(fx.lockPath)).signature, "not checked");
  const v = await readSignedLockfile(fx.lockPath, { trust: { key: join(fx.dir, "mcptrust.pub") } });
  assert.equal(v.signature, "verified");
  assert.equal(v.signer?.type === "ed25519" && v.signer.fingerprint, fx.fingerprint);
});

test("a lockfile changed after signing stops the check (exit 1) before any rule runs", async () => {
  const fx = await fixture();
  const dir = mkdtempSync(join(tmpdir(), "mcptrust-policy-tamper-"));
  const path = join(dir, "mcp-lock.json");
  writeFileSync(path, readFileSync(fx.lockPath, "utf8").replace('"fixture"', '"fixture2"'));
  writeFileSync(`${path}.sig`, readFileSync(`${fx.lockPath}.sig`));
  await assert.rejects(
    readSignedLockfile(path, { trust: { key: join(fx.dir, "mcptrust.pub") } }),
    (err: unknown) => err instanceof CheckFailedError && err.exitCode === 1,
  );
});

test("annotations of the wrong type are left out; hints fall back to the MCP defaults", () => {
  const iface = liveInterface();
  iface.tools = [{ name: "t", annotations: { readOnlyHint: "yes", destructiveHint: false, extra: 1 } }];
  const input = buildPolicyInput({ argv: ARGV, iface });
  const tool = (input.tools as Record<string, unknown>[])[0];
  assert.deepEqual(tool.annotations, { destructiveHint: false });
  assert.deepEqual(tool.hints, {
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: false,
    openWorldHint: true,
  });
  assert.equal(tool.input_schema, null);
  assert.equal(tool.description, "");
});

test("a server cannot break rules with JSON keys such as constructor or __proto__ in its schemas", () => {
  const iface = liveInterface();
  const schema = JSON.parse(
    '{"type":"object","constructor":"x","properties":{"command":{"type":"string"},"__proto__":{"a":1}}}',
  );
  iface.tools = [{ name: "t", inputSchema: schema }];
  iface.capabilities = JSON.parse('{"constructor":{"name":"Nope"},"tools":{}}');
  const input = buildPolicyInput({ argv: ARGV, iface });
  const compiler = new CelCompiler();
  for (
    const expr of [
      "input.tools.exists(t, has(t.input_schema.properties.command))",
      'input.tools.exists(t, "__proto__" in t.input_schema.properties)',
      'input.tools[0].input_schema["constructor"] == "x"',
      "has(input.server.capabilities.tools)",
    ]
  ) {
    const out = compiler.compile(expr, { input: POLICY_INPUT_SHAPE }).evaluate({ input });
    assert.deepEqual(out.ok ? out.value : out.error, true, expr);
  }
});

test("schemes come from static resources and templates, by RFC 3986 scheme (file:/x counts)", () => {
  const iface = liveInterface();
  iface.resources = [{ uri: "file:/etc/passwd" }, { uri: "HTTPS://example.com/a" }, { uri: "no-scheme" }];
  iface.resourceTemplates = [{ uriTemplate: "{+path}" }, { uriTemplate: "memory://{id}" }];
  const input = buildPolicyInput({ argv: ARGV, iface });
  assert.deepEqual((input.resources as Record<string, unknown>).schemes, ["file", "https", "memory"]);
});

test("every example rule in docs/POLICY.md compiles against the input", () => {
  const doc = readFileSync(new URL("../../../docs/POLICY.md", import.meta.url), "utf8");
  const compiler = new CelCompiler();
  let count = 0;
  for (const line of doc.split("\n").filter((l) => l.startsWith("| `input."))) {
    const cells = line.replaceAll("\\|", "\u0000").split("|").map((c) => c.trim().replaceAll("\u0000", "|"));
    const example = cells[cells.length - 2];
    const m = /^`(.+)`$/.exec(example);
    assert.ok(m, `no example rule on: ${line}`);
    const out = compiler.compile(m[1], { input: POLICY_INPUT_SHAPE });
    assert.notEqual(out.resultShape, undefined);
    count++;
  }
  assert.ok(count >= 90, `only ${count} examples`);
});
