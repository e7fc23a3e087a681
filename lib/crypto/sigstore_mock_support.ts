/**
 * A local Sigstore for tests (not used by the CLI): @sigstore/mock's Fulcio, Rekor and RFC 3161
 * timestamp authority served over HTTP on 127.0.0.1, with the matching trusted root, and unsigned OIDC
 * tokens the mock Fulcio accepts.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash, generateKeyPairSync } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import {
  fulcioHandler,
  initializeCA,
  initializeCTLog,
  initializeTLog,
  initializeTSA,
  rekorHandler,
  tsaHandler,
} from "@sigstore/mock";

/** A running mock: its base URL (Fulcio, Rekor and TSA all live there) and trusted_root.json content. */
export interface MockSigstore {
  url: string;
  trustedRoot: unknown;
  /** "METHOD /path" of every request the mock received, in order. */
  requests: string[];
  close(): Promise<void>;
}

const b64 = (v: ArrayBufferView) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");

/** An unsigned JWT with audience "sigstore"; the mock Fulcio reads its claims without checking a signature. */
export function fakeIdToken(claims: Record<string, unknown>): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  return `${enc({ alg: "none", typ: "JWT" })}.${
    enc({ aud: "sigstore", iat: now, exp: now + 600, ...claims })
  }.sig`;
}

/** Starts the mock on an ephemeral loopback port. */
export async function startMockSigstore(): Promise<MockSigstore> {
  const ec = () => generateKeyPairSync("ec", { namedCurve: "P-256" });
  type Handler = (body: string) => Promise<{ statusCode: number; response: unknown; contentType?: string }>;
  const handlers = new Map<string, Handler>();
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
      requests.push(`${req.method} ${path}`);
      const fn = req.method === "POST" ? handlers.get(path) : undefined;
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
    ctlogs: [{
      baseUrl: url,
      hashAlgorithm: "SHA2_256",
      publicKey: key(ctlog.publicKey),
      logId: { keyId: b64(ctlog.logID) },
    }],
    timestampAuthorities: [{
      subject: { organization: "sigstore.mock", commonName: "tsa" },
      uri: url,
      certChain: {
        certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }],
      },
      validFor,
    }],
  };
  return {
    url,
    trustedRoot,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
