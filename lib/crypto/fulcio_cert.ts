/**
 * The Fulcio certificate extensions (OIDs under 1.3.6.1.4.1.57264.1) that say which CI workflow a keyless
 * Sigstore signature came from. Source: sigstore/fulcio docs/oid-info.md. The extensions from .8 on are
 * DER-encoded UTF8Strings inside the extension's OCTET STRING; .1-.6 are deprecated and hold the raw
 * bytes. For GitHub Actions, Fulcio fills them from the OIDC token's claims (the mapping
 * @sigstore/mock's Fulcio mirrors): `.9` Build Signer URI = `https://github.com/` + `job_workflow_ref`
 * (equal to the certificate's SAN), `.12` Source Repository URI = `https://github.com/` + `repository`,
 * `.13` Source Repository Digest = `sha`, `.14` Source Repository Ref = `ref`, `.18` Build Config URI =
 * `https://github.com/` + `workflow_ref`, `.11` Runner Environment.
 *
 * The certificate is read with @sigstore/core's X.509 parser (the one @sigstore/verify uses).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { ASN1Obj, X509Certificate } from "@sigstore/core";

/** Fulcio OIDs used for provenance (sigstore/fulcio docs/oid-info.md). */
export const FULCIO_OID = {
  issuerV1: "1.3.6.1.4.1.57264.1.1",
  issuer: "1.3.6.1.4.1.57264.1.8",
  buildSignerUri: "1.3.6.1.4.1.57264.1.9",
  buildSignerDigest: "1.3.6.1.4.1.57264.1.10",
  runnerEnvironment: "1.3.6.1.4.1.57264.1.11",
  sourceRepositoryUri: "1.3.6.1.4.1.57264.1.12",
  sourceRepositoryDigest: "1.3.6.1.4.1.57264.1.13",
  sourceRepositoryRef: "1.3.6.1.4.1.57264.1.14",
  buildConfigUri: "1.3.6.1.4.1.57264.1.18",
  buildConfigDigest: "1.3.6.1.4.1.57264.1.19",
} as const;

/** The workflow identity in a Fulcio certificate; a field is absent when its extension is. */
export interface FulcioIdentity {
  /** Subject alternative name (URI or email). */
  san?: string;
  issuer?: string;
  buildSignerUri?: string;
  runnerEnvironment?: string;
  sourceRepositoryUri?: string;
  sourceRepositoryDigest?: string;
  sourceRepositoryRef?: string;
  buildConfigUri?: string;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** An extension value: a DER UTF8String (tag 12) when it is one exactly, else the raw bytes as UTF-8. */
function extText(b: Uint8Array): string {
  if (b[0] === 0x0c) {
    try {
      const inner = ASN1Obj.parseBuffer(Buffer.from(b));
      if (inner.tag.number === 12 && inner.toDER().length === b.length) return utf8.decode(inner.value);
    } catch {
      // not a DER string: the legacy raw form
    }
  }
  return utf8.decode(b);
}

/**
 * The workflow identity of a Fulcio certificate (see the module doc).
 *
 * @param der the leaf certificate, DER
 * @throws Error when it cannot be read (the caller reports it as a malformed bundle)
 */
export function fulcioIdentity(der: Uint8Array): FulcioIdentity {
  const cert = X509Certificate.parse(Buffer.from(der));
  const text = (oid: string) => {
    const v = cert.extension(oid)?.value;
    return v === undefined ? undefined : extText(v);
  };
  return {
    san: cert.subjectAltName,
    issuer: text(FULCIO_OID.issuer) ?? text(FULCIO_OID.issuerV1),
    buildSignerUri: text(FULCIO_OID.buildSignerUri),
    runnerEnvironment: text(FULCIO_OID.runnerEnvironment),
    sourceRepositoryUri: text(FULCIO_OID.sourceRepositoryUri),
    sourceRepositoryDigest: text(FULCIO_OID.sourceRepositoryDigest),
    sourceRepositoryRef: text(FULCIO_OID.sourceRepositoryRef),
    buildConfigUri: text(FULCIO_OID.buildConfigUri),
  };
}
