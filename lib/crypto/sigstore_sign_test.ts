/**
 * Keyless signing end to end, offline: @sigstore/mock's Fulcio, Rekor and timestamp authority served
 * over real HTTP on 127.0.0.1, `signWithSigstore` talking to them, and the bundle it returns verified
 * by `verifySigstoreBundle` against the mock's trusted root. Runs under Deno (`deno test -A`) and Bun
 * (`bun test`) through node:test.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import process from "node:process";
import { fakeIdToken, type MockSigstore, startMockSigstore } from "./sigstore_mock_support.ts";
import { CheckFailedError, McpTrustError } from "../errors.ts";
import { signWithSigstore, SigstoreCheckFailedError, verifySigstoreBundle } from "./sigstore.ts";

const IDENTITY = "https://github.com/mcptrust/mcptrust/.github/workflows/release.yml@refs/heads/main";
const ISSUER = "https://token.actions.githubusercontent.com";

/** Sets environment variables for the duration of `fn`, restoring them afterwards. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const NO_AMBIENT_TOKEN = {
  SIGSTORE_ID_TOKEN: undefined,
  ACTIONS_ID_TOKEN_REQUEST_URL: undefined,
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined,
};

describe("signWithSigstore against a local mock Fulcio/Rekor/TSA", () => {
  let mock: MockSigstore;
  const artifact = new TextEncoder().encode('{"server_command":"mock-server","version":"1.0"}');
  let bundle: unknown;

  before(async () => {
    mock = await startMockSigstore();
    bundle = await withEnv(NO_AMBIENT_TOKEN, () =>
      signWithSigstore(artifact, {
        identityToken: fakeIdToken({ sub: IDENTITY, iss: ISSUER }),
        fulcioURL: mock.url,
        rekorURL: mock.url,
        // No timestamp authority: @sigstore/core rejects the mock TSA's DER-correct times without three
        // fractional digits (".5Z") about one run in ten; Rekor's integrated time is enough to verify.
      }));
  });
  after(async () => {
    await mock?.close();
  });

  test("talks to Fulcio and Rekor over HTTP on loopback", () => {
    assert.deepEqual(
      [...mock.requests].sort(),
      ["POST /api/v1/log/entries", "POST /api/v2/signingCert"],
    );
  });

  test("returns a v0.3 bundle with one certificate and a log entry with an inclusion proof", () => {
    const b = bundle as {
      mediaType: string;
      verificationMaterial: {
        certificate?: unknown;
        x509CertificateChain?: unknown;
        tlogEntries: { inclusionProof?: { checkpoint?: unknown } }[];
        timestampVerificationData?: { rfc3161Timestamps: unknown[] };
      };
      messageSignature?: { messageDigest: { digest: string } };
    };
    assert.equal(b.mediaType, "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert.ok(b.verificationMaterial.certificate);
    assert.equal(b.verificationMaterial.x509CertificateChain, undefined);
    assert.equal(b.verificationMaterial.tlogEntries.length, 1);
    assert.ok(b.verificationMaterial.tlogEntries[0].inclusionProof?.checkpoint);
    assert.equal(
      b.messageSignature?.messageDigest.digest,
      createHash("sha256").update(artifact).digest("base64"),
    );
    // The bundle is plain JSON, as written to disk.
    assert.deepEqual(JSON.parse(JSON.stringify(bundle)), bundle);
  });

  test("the bundle verifies offline against the mock's trusted root, with the token's identity", async () => {
    const res = await verifySigstoreBundle(bundle, artifact, {
      policy: { identity: IDENTITY, issuer: ISSUER },
      trustedRoot: mock.trustedRoot,
    });
    assert.equal(res.kind, "certificate");
    assert.equal(res.identity, IDENTITY);
    assert.equal(res.issuer, ISSUER);
    assert.ok(res.signedAt);
    assert.ok(Math.abs(Date.parse(res.signedAt) - Date.now()) < 10 * 60_000, res.signedAt);
  });

  test("the bundle does not verify for other bytes", async () => {
    const other = new TextEncoder().encode('{"server_command":"evil-server","version":"1.0"}');
    await assert.rejects(
      verifySigstoreBundle(bundle, other, {
        policy: { identity: IDENTITY, issuer: ISSUER },
        trustedRoot: mock.trustedRoot,
      }),
      (e) => e instanceof SigstoreCheckFailedError && e.check === "artifact",
    );
  });

  test("the bundle does not verify against the public-good root (the mock CA is not trusted there)", async () => {
    await assert.rejects(
      verifySigstoreBundle(bundle, artifact, { policy: { identity: IDENTITY, issuer: ISSUER } }),
      (e) => e instanceof CheckFailedError,
    );
  });

  test("a different identity is refused", async () => {
    await assert.rejects(
      verifySigstoreBundle(bundle, artifact, {
        policy: {
          identity: "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main",
          issuer: ISSUER,
        },
        trustedRoot: mock.trustedRoot,
      }),
      (e) => e instanceof SigstoreCheckFailedError && e.check === "identity",
    );
  });
});

describe("signWithSigstore identity token sources", () => {
  test("no token anywhere is an operational error that says how to provide one", async () => {
    await withEnv(NO_AMBIENT_TOKEN, async () => {
      await assert.rejects(signWithSigstore(new Uint8Array([1]), {}), (e) => {
        assert.ok(e instanceof McpTrustError && !(e instanceof CheckFailedError));
        assert.equal(e.exitCode, 2);
        assert.match(e.message, /no OIDC identity token/);
        assert.match(e.hint ?? "", /SIGSTORE_ID_TOKEN/);
        assert.match(e.hint ?? "", /id-token: write/);
        return true;
      });
    });
  });

  test("SIGSTORE_ID_TOKEN is used when no token is passed", async () => {
    const mock = await startMockSigstore();
    try {
      const bundle = await withEnv(
        {
          ...NO_AMBIENT_TOKEN,
          SIGSTORE_ID_TOKEN: fakeIdToken({ sub: "env@example.com", iss: "https://issuer.example" }),
        },
        () => signWithSigstore(new Uint8Array([1, 2, 3]), { fulcioURL: mock.url, rekorURL: mock.url }),
      );
      const res = await verifySigstoreBundle(bundle, new Uint8Array([1, 2, 3]), {
        policy: { identity: "env@example.com", issuer: "https://issuer.example" },
        trustedRoot: mock.trustedRoot,
      });
      assert.equal(res.identity, "env@example.com");
    } finally {
      await mock.close();
    }
  });

  test("GitHub Actions ambient credentials are fetched with audience=sigstore and the bearer token", async () => {
    const mock = await startMockSigstore();
    const seen: { audience: string | null; auth: string | undefined }[] = [];
    const token = fakeIdToken({ sub: IDENTITY, iss: ISSUER });
    const gha = http.createServer((req, res) => {
      const u = new URL(req.url ?? "/", "http://127.0.0.1");
      seen.push({ audience: u.searchParams.get("audience"), auth: req.headers.authorization });
      res.writeHead(200, { "Content-Type": "application/json", Connection: "close" }).end(
        JSON.stringify({ value: token }),
      );
    });
    await new Promise<void>((resolve) => gha.listen(0, "127.0.0.1", resolve));
    try {
      const port = (gha.address() as AddressInfo).port;
      const bundle = await withEnv(
        {
          ...NO_AMBIENT_TOKEN,
          ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/token?api-version=2.0`,
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: "runner-secret",
        },
        () => signWithSigstore(new Uint8Array([4, 5]), { fulcioURL: mock.url, rekorURL: mock.url }),
      );
      assert.deepEqual(seen, [{ audience: "sigstore", auth: "Bearer runner-secret" }]);
      const res = await verifySigstoreBundle(bundle, new Uint8Array([4, 5]), {
        policy: { identity: IDENTITY, issuer: ISSUER },
        trustedRoot: mock.trustedRoot,
      });
      assert.equal(res.identity, IDENTITY);
    } finally {
      await new Promise<void>((resolve) => gha.close(() => resolve()));
      await mock.close();
    }
  });

  test("an unreachable Fulcio is an operational error naming Fulcio, and never echoes the token", async () => {
    // A port that was just free: nothing listens there.
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const dead = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const token = fakeIdToken({ sub: IDENTITY, iss: ISSUER });
    await withEnv(NO_AMBIENT_TOKEN, async () => {
      await assert.rejects(
        signWithSigstore(new Uint8Array([1]), { identityToken: token, fulcioURL: dead, rekorURL: dead }),
        (e) => {
          assert.ok(e instanceof McpTrustError && !(e instanceof CheckFailedError));
          assert.match(e.message, /Fulcio/);
          assert.ok(!e.message.includes(token) && !(e.hint ?? "").includes(token));
          return true;
        },
      );
    });
  });

  test("a token that is not a JWT is refused before any network call, without echoing it", async () => {
    await withEnv(NO_AMBIENT_TOKEN, async () => {
      await assert.rejects(
        signWithSigstore(new Uint8Array([1]), { identityToken: "not-a-jwt-secret" }),
        (e) => {
          assert.ok(e instanceof McpTrustError);
          assert.match(e.message, /not a JWT/);
          assert.ok(!e.message.includes("not-a-jwt-secret"));
          return true;
        },
      );
    });
  });
});
