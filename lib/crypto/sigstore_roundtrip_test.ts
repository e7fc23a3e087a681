/**
 * `sign --sigstore` and `verify --certificate-identity` end to end through our envelope, offline:
 * @sigstore/mock's Fulcio, Rekor and timestamp authority on 127.0.0.1 (set up as in
 * sigstore_sign_test.ts), a real keyless bundle over the lockfile's canonical bytes, written into the
 * Go tool's `.sig` envelope and verified back against the mock's trusted root.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash, generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  fulcioHandler,
  initializeCA,
  initializeCTLog,
  initializeTLog,
  initializeTSA,
  rekorHandler,
  tsaHandler,
} from "@sigstore/mock";
import { CheckFailedError, McpTrustError } from "../errors.ts";
import { goldenV3WithTools, lockfileText, withTempDir } from "../bundle/test_support.ts";
import { parseSignedDocument } from "./signed_document.ts";
import { signLockfile } from "./signer.ts";
import { verifyLockfile } from "./verifier.ts";

const IDENTITY = "https://github.com/acme/tools/.github/workflows/lock.yml@refs/heads/main";
const ISSUER = "https://token.actions.githubusercontent.com";
const b64 = (v: ArrayBufferView) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");

function fakeIdToken(claims: Record<string, unknown>): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  return `${enc({ alg: "none", typ: "JWT" })}.${enc({ aud: "sigstore", iat: now, exp: now + 600, ...claims })}.sig`;
}

async function startMock(): Promise<{ url: string; trustedRoot: unknown; close(): Promise<void> }> {
  const ec = () => generateKeyPairSync("ec", { namedCurve: "P-256" });
  type Handler = (body: string) => Promise<{ statusCode: number; response: unknown; contentType?: string }>;
  const handlers = new Map<string, Handler>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const fn = req.method === "POST" ? handlers.get(new URL(req.url ?? "/", "http://x").pathname) : undefined;
      if (!fn) return void res.writeHead(404).end();
      const out = await fn(Buffer.concat(chunks).toString("utf8"));
      res.writeHead(out.statusCode, { "Content-Type": out.contentType ?? "text/plain", Connection: "close" });
      res.end(typeof out.response === "string" ? out.response : Buffer.from(out.response as Uint8Array));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ctlog = await initializeCTLog(ec());
  const ca = await initializeCA(ec(), ctlog);
  const tlog = await initializeTLog(url, ec());
  const tsa = await initializeTSA(ec());
  for (const h of [fulcioHandler(ca), rekorHandler(tlog), tsaHandler(tsa)]) handlers.set(h.path, h.fn);
  const validFor = { start: new Date(Date.now() - 60_000).toISOString() };
  const key = (raw: Uint8Array) => ({ rawBytes: b64(raw), keyDetails: "PKIX_ECDSA_P256_SHA_256", validFor });
  const trustedRoot = {
    mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    tlogs: [{
      baseUrl: url,
      hashAlgorithm: "SHA2_256",
      publicKey: key(tlog.publicKey),
      logId: { keyId: createHash("sha256").update(tlog.publicKey).digest("base64") },
    }],
    certificateAuthorities: [{
      subject: { organization: "sigstore.mock", commonName: "sigstore" },
      uri: url,
      certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
      validFor,
    }],
    ctlogs: [{ baseUrl: url, hashAlgorithm: "SHA2_256", publicKey: key(ctlog.publicKey), logId: { keyId: b64(ctlog.logID) } }],
    timestampAuthorities: [{
      subject: { organization: "sigstore.mock", commonName: "tsa" },
      uri: url,
      certChain: { certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }] },
      validFor,
    }],
  };
  return { url, trustedRoot, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe("Sigstore keyless signatures in the .sig envelope", () => {
  let mock: Awaited<ReturnType<typeof startMock>>;
  const lockBytes = new TextEncoder().encode(lockfileText(goldenV3WithTools()));
  let envelope = "";

  before(async () => {
    mock = await startMock();
    const res = await signLockfile(parseSignedDocument(lockBytes, "mcp-lock.json"), "v1", {
      type: "sigstore",
      identityToken: fakeIdToken({ sub: IDENTITY, iss: ISSUER }),
      fulcioURL: mock.url,
      rekorURL: mock.url,
      tsaServerURL: mock.url,
    });
    envelope = res.envelope;
  });
  after(() => mock?.close());

  test("the .sig has the Go tool's Sigstore header", () => {
    assert.equal(envelope.split("\n")[0], '{"canon_version":"v1","sig_type":"sigstore_bundle","bundle_encoding":"base64+json"}');
  });

  test("it verifies for the named identity and issuer, and fails for another identity or a changed lockfile", () =>
    withTempDir(async (dir) => {
      const rootPath = join(dir, "trusted_root.json");
      writeFileSync(rootPath, JSON.stringify(mock.trustedRoot));
      const sig = { path: "mcp-lock.json.sig", bytes: new TextEncoder().encode(envelope) };
      const lockfile = { path: "mcp-lock.json", bytes: lockBytes };
      const ok = await verifyLockfile({ lockfile, signature: sig, flags: { identity: IDENTITY, issuer: ISSUER, trustedRoot: rootPath } });
      assert.equal(ok.signer.type === "sigstore" && ok.signer.identity, IDENTITY);
      assert.equal(ok.signatureFormat, "sigstore-bundle");
      const re = await verifyLockfile({
        lockfile,
        signature: sig,
        flags: { identityRegexp: "https://github\\.com/acme/.*", issuer: ISSUER, trustedRoot: rootPath },
      });
      assert.equal(re.signer.type, "sigstore");

      await assert.rejects(
        verifyLockfile({ lockfile, signature: sig, flags: { identity: "https://github.com/evil/x", issuer: ISSUER, trustedRoot: rootPath } }),
        (err: unknown) => err instanceof CheckFailedError && /does not match the signature/.test(err.message),
      );
      const changed = new TextEncoder().encode(new TextDecoder().decode(lockBytes).replace("test-server", "evil-server"));
      await assert.rejects(
        verifyLockfile({ lockfile: { ...lockfile, bytes: changed }, signature: sig, flags: { identity: IDENTITY, issuer: ISSUER, trustedRoot: rootPath } }),
        (err: unknown) => err instanceof CheckFailedError,
      );
      // Without the mock's trusted root, the public-good root does not vouch for the mock CA.
      await assert.rejects(
        verifyLockfile({ lockfile, signature: sig, flags: { identity: IDENTITY, issuer: ISSUER } }),
        (err: unknown) => err instanceof McpTrustError && err.exitCode === 1,
      );
    }));
});
