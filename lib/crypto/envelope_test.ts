import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { vectorPath } from "../bundle/test_support.ts";
import { encodeEd25519Envelope, encodeSigstoreEnvelope, parseSignatureEnvelope } from "./envelope.ts";

const read = (name: string) => readFileSync(vectorPath(`backward_compat/${name}`), "utf8");
const SIG_HEX =
  "46017fdc1ef0659b3b660d636478e3f1e800b0b88517bc06b9d3e8e95ed6ff38cc8e52d2ad2623c5760d7066cb186bedfafe6d23e478e2dd44d6db1b9a72850d";

test("the Go tool's three .sig formats parse: legacy hex (v1), v1 header, v2 header", () => {
  const legacy = parseSignatureEnvelope(read("legacy_v1_sig.hex"));
  const v1 = parseSignatureEnvelope(read("new_v1_sig.txt"));
  const v2 = parseSignatureEnvelope(read("new_v2_sig.txt"));
  assert.deepEqual(
    [legacy, v1, v2].map((e) =>
      e.type === "ed25519" && [e.canonVersion, e.legacy, Buffer.from(e.signature).toString("hex")]
    ),
    [["v1", true, SIG_HEX], ["v1", false, SIG_HEX], ["v2", false, SIG_HEX]],
  );
});

test("we write the Go tool's envelope byte for byte (header, newline, lowercase hex, no trailing newline)", () => {
  const sig = Uint8Array.from(Buffer.from(SIG_HEX, "hex"));
  assert.equal(encodeEd25519Envelope(sig, "v1"), read("new_v1_sig.txt"));
  assert.equal(encodeEd25519Envelope(sig, "v2"), read("new_v2_sig.txt"));
});

test("a Sigstore envelope has the Go header and base64 bundle JSON, and parses back", () => {
  const bundle = { mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", x: "<&>" };
  const text = encodeSigstoreEnvelope(JSON.stringify(bundle), "v1");
  const [header, payload] = text.split("\n");
  assert.equal(header, '{"canon_version":"v1","sig_type":"sigstore_bundle","bundle_encoding":"base64+json"}');
  assert.equal(Buffer.from(payload, "base64").toString("utf8"), JSON.stringify(bundle));
  assert.deepEqual(parseSignatureEnvelope(text), { type: "sigstore", canonVersion: "v1", bundle });
});

test("tolerates what the Go reader tolerates: surrounding whitespace, CRLF, uppercase hex", () => {
  const crlf = '{"canon_version":"v1"}\r\n' + SIG_HEX.toUpperCase() + "\r\n";
  const env = parseSignatureEnvelope("\n " + crlf);
  assert.equal(env.type === "ed25519" && Buffer.from(env.signature).toString("hex"), SIG_HEX);
});

test("malformed envelopes are refused with a reason (never read as some other kind)", () => {
  const cases: [string, RegExp][] = [
    ["", /empty/],
    ["zz" + SIG_HEX.slice(2), /not hexadecimal/],
    [SIG_HEX.slice(2), /126 hex digits/],
    ['{"canon_version":"v1"}', /not followed by a signature line/],
    ['{"canon_version":"v3"}\n' + SIG_HEX, /unknown canon_version "v3"/],
    ['{"canon_version":""}\n' + SIG_HEX, /unknown canon_version ""/],
    ['{"sig_type":""}\n' + SIG_HEX, /unknown canon_version null/],
    ['{"canon_version":"v1","sig_type":"rsa"}\n' + SIG_HEX, /unknown sig_type "rsa"/],
    ['{"canon_version":"v1","canon_version":"v2"}\n' + SIG_HEX, /duplicate member name/],
    ['["v1"]\n' + SIG_HEX, /not hexadecimal/],
    ['{canon_version:"v1"}\n' + SIG_HEX, /not a JSON object/],
    ['{"canon_version":"v1","sig_type":"sigstore_bundle"}\n!!!!', /not valid base64/],
    ['{"canon_version":"v1","sig_type":"sigstore_bundle"}\n' + btoa("[1]"), /not a JSON object/],
    [
      '{"canon_version":"v1","sig_type":"sigstore_bundle","bundle_encoding":"hex"}\n' + btoa("{}"),
      /bundle_encoding/,
    ],
  ];
  for (const [text, re] of cases) assert.throws(() => parseSignatureEnvelope(text), re, JSON.stringify(text));
});
