/**
 * Malformed Sigstore bundles are refused with a one-line reason, never a raw JavaScript error.
 *
 * The property tests take valid sigstore-conformance bundles (testdata/vectors/sigstore-conformance, see
 * its NOTICE), delete or corrupt every field of their transparency log entry (and, at random, any field
 * of the bundle), and check that each result is a refusal (McpTrustError, exit 1 or 2) whose message is
 * one line and free of engine error text ("TypeError", "undefined", "Cannot read"). The few mutations
 * that leave a valid bundle are listed, with the rule that makes them valid, and must still verify.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { McpTrustError } from "../errors.ts";
import { type IdentityPolicy, SigstoreCheckFailedError, verifySigstoreBundle } from "./sigstore.ts";
import { findBundleFieldProblem, findTlogEntryProblem } from "./sigstore_bundle_shape.ts";

const VECTORS = new URL("../../testdata/vectors/sigstore-conformance/", import.meta.url);
const A_TXT = readFileSync(new URL("a.txt", VECTORS));
const POLICY: IdentityPolicy = {
  identity:
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
  issuer: "https://token.actions.githubusercontent.com",
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

function bundle(name: string): Json {
  return JSON.parse(readFileSync(new URL(`bundle-verify/${name}/bundle.sigstore.json`, VECTORS), "utf8"));
}

const MANAGED_KEY_PEM = readFileSync(
  new URL("bundle-verify/managed-key-happy-path/key.pub", VECTORS),
  "utf8",
);

/** The valid bundles mutated below, and how each is verified. */
const BASES: { name: string; opts: { policy?: IdentityPolicy; publicKeyPem?: string } }[] = [
  { name: "happy-path-v0.1", opts: { policy: POLICY } },
  { name: "happy-path-v0.3", opts: { policy: POLICY } },
  { name: "happy-path-intoto-in-dsse-v3", opts: { policy: POLICY } },
  { name: "managed-key-happy-path", opts: { publicKeyPem: MANAGED_KEY_PEM } },
];

/**
 * Fields whose removal leaves a valid bundle, by base and JSON path from the bundle root, with the rule
 * that makes it valid. Removing anything else, or corrupting anything, must be refused.
 */
const REMOVABLE: Record<string, Record<string, string>> = {
  "happy-path-v0.1": {
    "verificationMaterial.tlogEntries.0.inclusionProof":
      "a v0.1 bundle needs only the inclusion promise (SET); the proof is optional",
  },
  "happy-path-v0.3": {
    "messageSignature.messageDigest.algorithm": "absent is HASH_ALGORITHM_UNSPECIFIED, read as SHA2_256",
  },
  "managed-key-happy-path": {
    "verificationMaterial.tlogEntries.0.inclusionPromise":
      "the RFC 3161 timestamp gives the signing time and the inclusion proof the logging, so no SET is needed",
    "verificationMaterial.timestampVerificationData":
      "the SET gives the signing time, so the RFC 3161 timestamp is not needed",
    "verificationMaterial.timestampVerificationData.rfc3161Timestamps": "likewise",
    "verificationMaterial.timestampVerificationData.rfc3161Timestamps.0": "likewise",
    "messageSignature.messageDigest.algorithm": "absent is HASH_ALGORITHM_UNSPECIFIED, read as SHA2_256",
  },
};
REMOVABLE["happy-path-v0.1"]["messageSignature.messageDigest.algorithm"] =
  REMOVABLE["happy-path-v0.3"]["messageSignature.messageDigest.algorithm"];

const DELETE: unique symbol = Symbol("delete");
type Mutation = { label: string; value: Json | typeof DELETE };

function get(root: Json, path: Path): Json {
  let v: Json = root;
  for (const k of path) v = (v as Record<string | number, Json>)[k];
  return v;
}

function mutate(root: Json, path: Path, value: Json | typeof DELETE): Json {
  const copy = structuredClone(root);
  const parent = get(copy, path.slice(0, -1)) as Record<string | number, Json>;
  const key = path[path.length - 1];
  if (value !== DELETE) parent[key] = value;
  else if (Array.isArray(parent)) parent.splice(key as number, 1);
  else delete parent[key];
  return copy;
}

/** Every path below `root` (objects, arrays and leaves). */
function paths(root: Json, at: Path = []): Path[] {
  const out: Path[] = at.length ? [at] : [];
  if (root && typeof root === "object") {
    for (const [k, v] of Object.entries(root)) {
      out.push(...paths(v, [...at, Array.isArray(root) ? Number(k) : k]));
    }
  }
  return out;
}

/** A different, same-typed value: the field is there and well-typed, but wrong. */
function corrupt(v: Json): Json[] {
  if (typeof v === "string") {
    if (/^\d+$/.test(v)) return [String(BigInt(v) + 1n), "-1"];
    if (/^[A-Za-z0-9+/]+=*$/.test(v) && v.length >= 4) {
      const i = Math.floor(v.length / 2);
      return [v.slice(0, i) + (v[i] === "A" ? "B" : "A") + v.slice(i + 1), v.slice(0, 4)];
    }
    return [v + "x", v.replace(/\n/g, "\n\n")];
  }
  if (Array.isArray(v)) {
    const out: Json[] = [[], [...v, ...v.slice(0, 1)]];
    if (v.length >= 2) out.push([...v].reverse());
    return out;
  }
  return [];
}

function mutationsOf(v: Json): Mutation[] {
  const wrongTypes: Json[] = [null, 7, -1, true, "", "!!not base64!!", {}, []];
  return [
    { label: "deleted", value: DELETE } as Mutation,
    ...wrongTypes.map((w) => ({ label: `set to ${JSON.stringify(w)}`, value: w })),
    ...corrupt(v).map((c) => ({ label: `corrupted to ${JSON.stringify(c).slice(0, 40)}`, value: c })),
  ].filter((m) => m.value === DELETE || JSON.stringify(m.value) !== JSON.stringify(v));
}

/** Asserts a clean refusal: an McpTrustError with exit 1 or 2, a hint, one line, no engine text. */
function assertCleanRefusal(e: unknown, what: string): void {
  assert.ok(e instanceof McpTrustError, `${what}: not an McpTrustError: ${e}`);
  assert.ok(e.exitCode === 1 || e.exitCode === 2, `${what}: exit ${e.exitCode}`);
  if (e.exitCode === 1) assert.ok(e instanceof SigstoreCheckFailedError, `${what}: exit 1 names its check`);
  assert.ok(!e.message.includes("\n"), `${what}: multi-line message: ${e.message}`);
  assert.doesNotMatch(e.message, /TypeError|undefined|Cannot read/, `${what}: ${e.message}`);
  assert.ok(e.hint, `${what}: a refusal says what to do next`);
}

async function outcome(b: Json, opts: { policy?: IdentityPolicy; publicKeyPem?: string }) {
  try {
    await verifySigstoreBundle(b, A_TXT, opts);
    return { verified: true as const };
  } catch (err) {
    return { verified: false as const, err };
  }
}

describe("mutated transparency log entries (property: every one is a clean refusal)", () => {
  for (const { name, opts } of BASES) {
    test(`${name}: deleting or corrupting any field of the log entry is refused with a one-line reason`, async () => {
      const base = bundle(name);
      const entryPath: Path = ["verificationMaterial", "tlogEntries", 0];
      const entry = get(base, entryPath);
      let refused = 0;
      for (const rel of paths(entry)) {
        for (const m of mutationsOf(get(entry, rel))) {
          const what = `${name} tlogEntries[0].${rel.join(".")} ${m.label}`;
          const r = await outcome(mutate(base, [...entryPath, ...rel], m.value), opts);
          const why = REMOVABLE[name]?.[[...entryPath, ...rel].join(".")];
          if (why && (m.value === DELETE || m.value === null)) {
            assert.ok(r.verified, `${what} should still verify: ${why}`);
            continue;
          }
          assert.ok(!r.verified, `${what} was accepted`);
          assertCleanRefusal(r.err, what);
          refused++;
        }
      }
      assert.ok(refused > 100, `only ${refused} mutations tried`);
    });
  }

  test("whole-entry and entry-list mutations are refused with a one-line reason", async () => {
    const base = bundle("happy-path-v0.3");
    const entries = get(base, ["verificationMaterial", "tlogEntries"]) as Json[];
    const lists: Json[] = [[], {}, "x", 7, [null], [7], ["x"], [[]], [entries[0], entries[0]]];
    for (const value of lists) {
      const r = await outcome(mutate(base, ["verificationMaterial", "tlogEntries"], value), {
        policy: POLICY,
      });
      assert.ok(!r.verified, `tlogEntries = ${JSON.stringify(value).slice(0, 40)} was accepted`);
      assertCleanRefusal(r.err, `tlogEntries = ${JSON.stringify(value).slice(0, 40)}`);
    }
  });

  test("random mutations anywhere in the bundle are refused cleanly or leave a valid bundle (fast-check)", async () => {
    const bases = BASES.map((b) => ({ ...b, json: bundle(b.name), all: paths(bundle(b.name)) }));
    await fc.assert(
      fc.asyncProperty(
        fc.nat(bases.length - 1),
        fc.nat(),
        fc.nat(),
        async (bi, pi, mi) => {
          const b = bases[bi];
          const path = b.all[pi % b.all.length];
          const muts = mutationsOf(get(b.json, path));
          const m = muts[mi % muts.length];
          const r = await outcome(mutate(b.json, path, m.value), b.opts);
          const key = path.join(".");
          if (r.verified) {
            const removed = m.value === DELETE || m.value === null;
            assert.ok(removed && REMOVABLE[b.name]?.[key], `${b.name} ${key} ${m.label} was accepted`);
            return;
          }
          assertCleanRefusal(r.err, `${b.name} ${key} ${m.label}`);
        },
      ),
      { numRuns: 300, seed: 20240917 },
    );
  });
});

describe("findTlogEntryProblem names the malformed field", () => {
  const base = bundle("happy-path-v0.1");
  const at = (...p: Path) => ["verificationMaterial", "tlogEntries", 0, ...p];
  const cases: [string, Json, RegExp][] = [
    [
      "no checkpoint in a v0.1 inclusion proof",
      mutate(base, at("inclusionProof", "checkpoint"), DELETE),
      /inclusionProof\.checkpoint is missing/,
    ],
    [
      "a checkpoint without an envelope",
      mutate(base, at("inclusionProof", "checkpoint"), {}),
      /checkpoint\.envelope is missing/,
    ],
    [
      "a proof hash of the wrong length",
      mutate(base, at("inclusionProof", "hashes", 0), "AAAA"),
      /hashes\[0\] is 3 bytes, not a 32-byte SHA-256 hash/,
    ],
    [
      "a proof hash that is not base64",
      mutate(base, at("inclusionProof", "hashes", 3), "not base64!"),
      /hashes\[3\] is not base64/,
    ],
    [
      "hashes that are not a list",
      mutate(base, at("inclusionProof", "hashes"), "AAAA"),
      /inclusionProof\.hashes is not a list/,
    ],
    [
      "a root hash that disagrees with the checkpoint",
      mutate(base, at("inclusionProof", "rootHash"), Buffer.alloc(32).toString("base64")),
      /rootHash differs from the root hash its checkpoint signs/,
    ],
    [
      "a tree size that disagrees with the checkpoint",
      mutate(base, at("inclusionProof", "treeSize"), "23083063"),
      /treeSize \(23083063\) differs from the tree size its checkpoint signs \(23083062\)/,
    ],
    [
      "a proof index outside the tree",
      mutate(base, at("inclusionProof", "logIndex"), "23083062"),
      /inclusionProof\.logIndex \(23083062\) is not inside the tree/,
    ],
    [
      "a negative log index",
      mutate(base, at("logIndex"), "-1"),
      /tlogEntries\[0\]\.logIndex is not a non-negative integer \("-1"\)/,
    ],
    [
      "a log index that is an object",
      mutate(base, at("logIndex"), {}),
      /logIndex is not a non-negative integer$/,
    ],
    ["no log ID", mutate(base, at("logId"), DELETE), /logId\.keyId is missing/],
    ["no kind", mutate(base, at("kindVersion", "kind"), ""), /kindVersion\.kind is missing or not a string/],
    [
      "an empty SET",
      mutate(base, at("inclusionPromise", "signedEntryTimestamp"), ""),
      /signedEntryTimestamp is empty/,
    ],
    [
      "a body that is not base64",
      mutate(base, at("canonicalizedBody"), 42),
      /canonicalizedBody is not base64/,
    ],
    ["an entry that is not an object", mutate(base, at(), "x"), /tlogEntries\[0\] is not an object/],
  ];
  for (const [label, json, re] of cases) {
    test(label, () => {
      const p = findTlogEntryProblem(json);
      assert.ok(p, "a problem is found");
      assert.match(`${p.path} ${p.problem}`, re);
    });
  }

  test("the conformance happy paths have none, and line-wrapped base64 is accepted (Go's decoder allows it)", () => {
    for (const { name } of BASES) assert.equal(findTlogEntryProblem(bundle(name)), undefined, name);
    const body = get(base, at("canonicalizedBody")) as string;
    const wrapped = mutate(base, at("canonicalizedBody"), body.replace(/(.{76})/g, "$1\n"));
    assert.equal(findTlogEntryProblem(wrapped), undefined);
  });

  test("through verification: a v0.1 proof without a checkpoint fails the transparency-log check (exit 1)", async () => {
    const r = await outcome(mutate(base, at("inclusionProof", "checkpoint"), DELETE), { policy: POLICY });
    assert.ok(r.err instanceof SigstoreCheckFailedError, String(r.err));
    assert.equal(r.err.check, "transparency-log");
    assert.equal(r.err.exitCode, 1);
    assert.match(r.err.message, /tlogEntries\[0\]\.inclusionProof\.checkpoint is missing/);
  });
});

describe("findBundleFieldProblem names byte fields and lists the bundle decoder would trip on", () => {
  const base = bundle("happy-path-intoto-in-dsse-v3");
  for (
    const [label, path, value, re] of [
      [
        "a signature that is a number",
        ["dsseEnvelope", "signatures", 0, "sig"],
        7,
        /dsseEnvelope\.signatures\[0\]\.sig is not base64/,
      ],
      [
        "a signature entry that is null",
        ["dsseEnvelope", "signatures", 0],
        null,
        /dsseEnvelope\.signatures\[0\] is not an object/,
      ],
      [
        "signatures that are not a list",
        ["dsseEnvelope", "signatures"],
        "x",
        /dsseEnvelope\.signatures is not a list/,
      ],
      [
        "a certificate that is not base64",
        ["verificationMaterial", "certificate", "rawBytes"],
        "!!",
        /certificate\.rawBytes is not base64/,
      ],
    ] as [string, Path, Json, RegExp][]
  ) {
    test(`${label}: named, and refused as a malformed bundle (exit 2)`, async () => {
      const json = mutate(base, path, value);
      const p = findBundleFieldProblem(json);
      assert.ok(p);
      assert.match(`${p.path} ${p.problem}`, re);
      const r = await outcome(json, { policy: POLICY });
      assertCleanRefusal(r.err, label);
      assert.equal((r.err as McpTrustError).exitCode, 2);
      assert.match((r.err as McpTrustError).message, re);
    });
  }
});
