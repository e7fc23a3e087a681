/**
 * Test support for the fetcher: a throw-away certificate authority made with the `openssl` CLI at test
 * time, and a local HTTPS server on 127.0.0.1 whose certificate that CA signed. Tests only.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A CA certificate (PEM) and a server certificate and key it signed. */
export interface TestTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** The names the server certificate is valid for. */
export const TEST_CERT_NAMES = ["localhost", "evil.test", "private.test", "rebind.test", "mixed.test"];

let cached: TestTls | undefined;

/** Makes (once per process) a P-256 CA and a server certificate for {@link TEST_CERT_NAMES}, 127.0.0.1, ::1. */
export function testTls(): TestTls {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), "mcptrust-tls-"));
  try {
    const ssl = (args: string[]) =>
      execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    const san = [...TEST_CERT_NAMES.map((n) => `DNS:${n}`), "IP:127.0.0.1", "IP:::1"].join(",");
    writeFileSync(
      join(dir, "ext.cnf"),
      `[ext]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n` +
        `extendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`,
    );
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    ssl([
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-subj",
      "/CN=mcptrust test CA",
    ]);
    ssl(["req", ...ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost"]);
    ssl([
      "x509",
      "-req",
      "-in",
      "leaf.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "leaf.pem",
      "-days",
      "2",
      "-extfile",
      "ext.cnf",
      "-extensions",
      "ext",
    ]);
    cached = {
      caPem: readFileSync(join(dir, "ca.pem"), "utf8"),
      certPem: readFileSync(join(dir, "leaf.pem"), "utf8"),
      keyPem: readFileSync(join(dir, "leaf.key"), "utf8"),
    };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One request the test server saw. */
export interface SeenRequest {
  host: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A running local HTTPS server. */
export interface TestServer {
  port: number;
  /** Requests received, in order. */
  seen: SeenRequest[];
  /** `https://<host>:<port>` for a host name the certificate covers. */
  origin(host?: string): string;
  close(): Promise<void>;
}

/** Starts an HTTPS server on 127.0.0.1 (random port) with {@link testTls}'s certificate. */
export async function startHttpsServer(
  handler: (req: IncomingMessage, res: ServerResponse, server: TestServer) => void,
): Promise<TestServer> {
  const tls = testTls();
  const sockets = new Set<{ destroy(): void }>();
  const seen: SeenRequest[] = [];
  // deno-lint-ignore prefer-const
  let api: TestServer;
  const srv = https.createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    seen.push({ host: String(req.headers.host ?? ""), path: req.url ?? "", headers: { ...req.headers } });
    handler(req, res, api);
  });
  srv.on("secureConnection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", () => resolve()));
  const port = (srv.address() as AddressInfo).port;
  api = {
    port,
    seen,
    origin: (host = "localhost") => `https://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        srv.close(() => resolve());
      }),
  };
  return api;
}
