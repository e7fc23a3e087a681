import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { buildLockfile } from "../lockfile/build.ts";
import { parseLockfile, serializeLockfile } from "../lockfile/load.ts";
import type { ServerInterface } from "../mcp/types.ts";
import { compareLockfile } from "./compare.ts";
import { type CheckResult, judgeDrift } from "./check_result.ts";
import {
  artifactUri,
  buildCheckSarif,
  DRIFT_RULES,
  renderCheckSarif,
  RULE_IDS,
  type SarifInput,
} from "./sarif.ts";
import type { DriftItem, DriftType, Severity } from "./types.ts";

const SCHEMA_PATH = new URL("../../testdata/vectors/sarif/sarif-schema-2.1.0.json", import.meta.url);

/** The official SARIF 2.1.0 schema (draft-07) compiled with ajv; its three formats checked for real. */
function sarifValidator() {
  // unicodeRegExp: false: the schema's `language` pattern ("...[a-zA-Z]{2}]?$") is valid ECMA-262 but
  // not with the u flag ajv uses by default.
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  ajv.addFormat("uri", (s: string) => URL.canParse(s));
  ajv.addFormat("uri-reference", (s: string) => URL.canParse(s, "http://base.invalid/") && !/\s/.test(s));
  ajv.addFormat(
    "date-time",
    (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s),
  );
  return ajv.compile(JSON.parse(readFileSync(SCHEMA_PATH, "utf8")));
}
const validate = sarifValidator();

function assertValidSarif(log: unknown): void {
  const ok = validate(log);
  assert.ok(ok, JSON.stringify(validate.errors, null, 1));
}

function base(): ServerInterface {
  return {
    serverInfo: { name: "srv", version: "1.0.0" },
    protocolVersion: "2025-06-18",
    capabilities: { tools: {}, prompts: {}, resources: {} },
    tools: [
      { name: "read_file", description: "Read a file", inputSchema: { type: "object" } },
      { name: "search", description: "Search documents", inputSchema: { type: "object" } },
    ],
    prompts: [{ name: "review", description: "Review code", arguments: [{ name: "code", required: true }] }],
    resources: [{ uri: "config://app", name: "App config", mimeType: "application/json" }],
    resourceTemplates: [{ uriTemplate: "file:///srv/{path}", name: "Files" }],
  };
}

const LOCK_TEXT = serializeLockfile(
  buildLockfile(base(), { generator: "t", updatedAt: "2026-01-01T00:00:00Z" }),
);

/** A real check: the lockfile of base(), against a server changed by `mutate`. */
function realCheck(mutate: (s: ServerInterface) => void, failOn: Severity = "critical"): CheckResult {
  const live = base();
  mutate(live);
  const loaded = parseLockfile(new TextEncoder().encode(LOCK_TEXT), "mcp-lock.json");
  return judgeDrift(compareLockfile(loaded, live), {
    failOn,
    lockfileVersion: "3.0",
    server: "srv",
    lockfile: "servers/mcp-lock.json",
  });
}

/** Every drift type in lib/drift/types.ts, read from its source (not from the rule table under test). */
function declaredDriftTypes(): string[] {
  const src = readFileSync(new URL("./types.ts", import.meta.url), "utf8");
  const union = src.slice(
    src.indexOf("export type DriftType"),
    src.indexOf(";", src.indexOf("export type DriftType")),
  );
  return [...union.matchAll(/"([A-Z_]+)"/g)].map((m) => m[1]);
}

function resultWith(items: DriftItem[]): CheckResult {
  return judgeDrift({ items, notCompared: [] }, {
    failOn: "critical",
    lockfileVersion: "3.0",
    server: "srv",
    lockfile: "mcp-lock.json",
  });
}

test("the official SARIF 2.1.0 schema rejects what is not SARIF (the validation can fail)", () => {
  const log = buildCheckSarif(
    realCheck((s) => s.tools.push({ name: "exec", inputSchema: { type: "object" } })),
  );
  assertValidSarif(log);
  const bad = structuredClone(log) as { runs: { results: { level: string }[] }[] };
  bad.runs[0].results[0].level = "critical"; // not a SARIF level
  assert.equal(validate(bad), false);
  assert.equal(validate({ ...log, version: "2.0.0" }), false);
});

test("one rule per drift type, with stable ids MCPTRUST/<TYPE>, and every rule is valid SARIF", () => {
  const declared = declaredDriftTypes();
  assert.ok(declared.length >= 26, `parsed ${declared.length} drift types`);
  assert.deepEqual(Object.keys(DRIFT_RULES).sort(), [...declared].sort());
  const log = buildCheckSarif(resultWith([])) as {
    runs: { tool: { driver: { rules: { id: string; defaultConfiguration: { level: string } }[] } } }[];
  };
  assertValidSarif(log);
  const ids = log.runs[0].tool.driver.rules.map((r) => r.id);
  assert.deepEqual(ids, RULE_IDS);
  for (const t of declared) assert.ok(ids.includes(`MCPTRUST/${t}`), t);
  // Rule ids and indexes are an interface (GitHub matches alerts by them): the first ones never move.
  assert.deepEqual(ids.slice(0, 3), [
    "MCPTRUST/TOOL_ADDED",
    "MCPTRUST/TOOL_REMOVED",
    "MCPTRUST/TOOL_CHANGED",
  ]);
  assert.equal(ids.at(-1), "MCPTRUST/POLICY_RULE_FAILED");
  const added = log.runs[0].tool.driver.rules.find((r) => r.id === "MCPTRUST/TOOL_ADDED")!;
  assert.equal(added.defaultConfiguration.level, "error");
});

test("every drift type and severity renders as a valid result: critical=error, moderate=warning, info=note", () => {
  const sevs: Severity[] = ["critical", "moderate", "info"];
  const items: DriftItem[] = declaredDriftTypes().map((type, i) => ({
    type: type as DriftType,
    severity: sevs[i % 3],
    identifier: `item-${i} with spaces/and "quotes" \u202e`,
    message: `change ${i}: <b>html</b> [x](https://evil.example)`,
    ...(i % 2 ? { oldHash: "sha256:" + "a".repeat(64), newHash: "sha256:" + "b".repeat(64) } : {}),
  }));
  const log = buildCheckSarif(resultWith(items)) as {
    runs: { results: { ruleId: string; ruleIndex: number; level: string; message: { text: string } }[] }[];
  };
  assertValidSarif(log);
  const rules = RULE_IDS;
  const results = log.runs[0].results;
  assert.equal(results.length, items.length);
  const want = { critical: "error", moderate: "warning", info: "note" };
  for (const [i, r] of results.entries()) {
    assert.equal(r.ruleId, `MCPTRUST/${items[i].type}`);
    assert.equal(rules[r.ruleIndex], r.ruleId);
    assert.equal(r.level, want[items[i].severity]);
    assert.equal(r.message.text, items[i].message, "message text is the report's, verbatim (plain text)");
  }
});

test("results point at the lockfile, at the line of the locked item or of its section", () => {
  const r = realCheck((s) => {
    s.tools = s.tools.filter((t) => t.name !== "search"); // TOOL_REMOVED search
    s.tools.push({ name: "exec_shell", inputSchema: { type: "object" } }); // TOOL_ADDED
    s.prompts[0].description = "Review code now"; // PROMPT_DESC_CHANGED review
    s.resourceTemplates = []; // TEMPLATE_REMOVED
  });
  const log = buildCheckSarif(r, { lockfileText: LOCK_TEXT }) as {
    runs: {
      artifacts: { location: { uri: string } }[];
      results: {
        ruleId: string;
        locations: {
          physicalLocation: {
            artifactLocation: { uri: string; uriBaseId: string };
            region: { startLine: number };
          };
          logicalLocations: { name: string }[];
        }[];
      }[];
    }[];
  };
  assertValidSarif(log);
  const lines = LOCK_TEXT.split("\n");
  const lineOf = (re: RegExp) => lines.findIndex((l) => re.test(l)) + 1;
  const byRule = new Map(log.runs[0].results.map((x) => [x.ruleId, x.locations[0]]));
  const expect = (rule: string, re: RegExp) => {
    const loc = byRule.get(rule);
    assert.ok(loc, `${rule} in ${[...byRule.keys()]}`);
    assert.deepEqual(loc.physicalLocation.artifactLocation, {
      uri: "servers/mcp-lock.json",
      uriBaseId: "%SRCROOT%",
      index: 0,
    });
    const want = lineOf(re);
    assert.ok(want > 1, `${re} found in the lockfile`);
    assert.equal(loc.physicalLocation.region.startLine, want, rule);
  };
  expect("MCPTRUST/TOOL_REMOVED", /^\s*"search": \{/);
  expect("MCPTRUST/TOOL_ADDED", /^\s*"tools": \{/);
  expect("MCPTRUST/PROMPT_DESC_CHANGED", /^\s*"review": \{/);
  expect("MCPTRUST/TEMPLATE_REMOVED", /^\s*"uriTemplate": "file:\/\/\/srv\/\{path\}"/);
  assert.equal(byRule.get("MCPTRUST/TOOL_ADDED")!.logicalLocations[0].name, "exec_shell");
  assert.equal(log.runs[0].artifacts[0].location.uri, "servers/mcp-lock.json");
  // Without the lockfile text, or with text that is not JSON, every result still has a line.
  for (const text of [undefined, "not json {"]) {
    const l = buildCheckSarif(r, { lockfileText: text }) as typeof log;
    assertValidSarif(l);
    for (const x of l.runs[0].results) assert.equal(x.locations[0].physicalLocation.region.startLine, 1);
  }
});

test("tool driver: name, version, informationUri; run properties carry the outcome and drift count", () => {
  const r = realCheck((s) => s.tools.push({ name: "exec", inputSchema: { type: "object" } }));
  const log = JSON.parse(renderCheckSarif(r)) as {
    $schema: string;
    version: string;
    runs: {
      tool: { driver: { name: string; version: string; informationUri: string } };
      properties: { outcome: string; driftCount: number };
      invocations: { exitCode: number }[];
    }[];
  };
  assert.equal(log.version, "2.1.0");
  assert.match(log.$schema, /sarif-schema-2\.1\.0\.json$/);
  const d = log.runs[0].tool.driver;
  assert.equal(d.name, "mcptrust");
  assert.equal(typeof d.version, "string");
  assert.ok(d.version.length > 0);
  assert.equal(d.informationUri, "https://github.com/mcptrust/mcptrust");
  assert.equal(log.runs[0].properties.outcome, "FAIL");
  assert.equal(log.runs[0].properties.driftCount, 1);
  assert.equal(log.runs[0].invocations[0].exitCode, 1);
});

test("fingerprints: the same drift gives the same fingerprint, a different change a new one", () => {
  const fp = (mutate: (s: ServerInterface) => void) =>
    (buildCheckSarif(realCheck(mutate)) as { runs: { results: { partialFingerprints: unknown }[] }[] })
      .runs[0].results.map((x) => JSON.stringify(x.partialFingerprints));
  const a1 = fp((s) => (s.tools[0].description = "Read a file, now"));
  const a2 = fp((s) => (s.tools[0].description = "Read a file, now"));
  const b = fp((s) => (s.tools[0].description = "Read a file, later"));
  assert.deepEqual(a1, a2);
  assert.notDeepEqual(a1, b);
});

test("a failed policy rule is a result of its own rule, and the log stays valid", () => {
  const r: SarifInput = {
    ...realCheck(() => {}),
    outcome: "FAIL",
    policy: {
      name: "Strict",
      preset: "strict",
      passed: false,
      rules: [
        {
          name: "no_high_risk",
          severity: "error",
          status: "fail",
          failure_msg: "a HIGH risk tool is exposed",
        },
        { name: "signed", severity: "warn", status: "warn", failure_msg: "the lockfile is unsigned" },
        { name: "ok_rule", severity: "error", status: "pass" },
      ],
    },
  };
  const log = buildCheckSarif(r) as {
    runs: { results: { ruleId: string; level: string; message: { text: string } }[] }[];
  };
  assertValidSarif(log);
  const res = log.runs[0].results;
  assert.deepEqual(res.map((x) => [x.ruleId, x.level]), [
    ["MCPTRUST/POLICY_RULE_FAILED", "error"],
    ["MCPTRUST/POLICY_RULE_FAILED", "warning"],
  ]);
  assert.match(res[0].message.text, /no_high_risk.*a HIGH risk tool is exposed/);
});

test("artifact URIs: relative paths stay relative to the repository root, absolute ones are file URIs", () => {
  assert.deepEqual(artifactUri("mcp-lock.json"), { uri: "mcp-lock.json", uriBaseId: "%SRCROOT%" });
  assert.deepEqual(artifactUri("./ci/my lock.json"), { uri: "ci/my%20lock.json", uriBaseId: "%SRCROOT%" });
  assert.deepEqual(artifactUri("ci\\win.json"), { uri: "ci/win.json", uriBaseId: "%SRCROOT%" });
  assert.deepEqual(artifactUri("/srv/a#b.json"), { uri: "file:///srv/a%23b.json" });
  assert.deepEqual(artifactUri("C:\\x\\l.json"), { uri: "file:///C:/x/l.json" });
});
