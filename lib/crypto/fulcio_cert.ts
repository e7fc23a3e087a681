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
 * A hand-written DER walk (definite lengths only) over the certificate's TBSCertificate extensions.
 *
 * @module
 */

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

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

function readTlv(buf: Uint8Array, off: number, limit: number): Tlv {
  if (off + 2 > limit) throw new Error("truncated DER");
  const tag = buf[off];
  let len = buf[off + 1];
  let p = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) throw new Error("bad DER length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i];
    p += n;
  }
  if (p + len > limit) throw new Error("truncated DER");
  return { tag, start: p, end: p + len };
}

function children(buf: Uint8Array, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = t.start; p < t.end;) {
    const c = readTlv(buf, p, t.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

function oidString(b: Uint8Array): string {
  if (b.length === 0) throw new Error("empty OID");
  const parts = [Math.floor(b[0] / 40), b[0] % 40];
  let v = 0;
  for (let i = 1; i < b.length; i++) {
    v = v * 128 + (b[i] & 0x7f);
    if (!(b[i] & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join(".");
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** An extension value: a DER UTF8String (0x0c) when it is one exactly, else the raw bytes as UTF-8. */
function extText(b: Uint8Array): string {
  if (b[0] === 0x0c) {
    try {
      const t = readTlv(b, 0, b.length);
      if (t.end === b.length) return utf8.decode(b.subarray(t.start, t.end));
    } catch {
      // not a DER string: the legacy raw form
    }
  }
  return utf8.decode(b);
}

/**
 * Reads the extensions of a DER X.509 certificate.
 *
 * @returns OID (dotted) -> the extension's OCTET STRING content
 * @throws Error when the DER is not a certificate
 */
export function certificateExtensions(der: Uint8Array): Map<string, Uint8Array> {
  const cert = readTlv(der, 0, der.length);
  const tbs = children(der, cert)[0];
  if (cert.tag !== 0x30 || tbs?.tag !== 0x30) throw new Error("not a certificate");
  const out = new Map<string, Uint8Array>();
  const exts = children(der, tbs).find((c) => c.tag === 0xa3);
  if (!exts) return out;
  const seq = children(der, exts)[0];
  for (const ext of children(der, seq)) {
    const parts = children(der, ext);
    const oid = parts[0];
    const value = parts[parts.length - 1];
    if (oid?.tag !== 0x06 || value?.tag !== 0x04) throw new Error("malformed extension");
    out.set(oidString(der.subarray(oid.start, oid.end)), der.subarray(value.start, value.end));
  }
  return out;
}

/** The SAN of a certificate: its first URI (tag [6]) or email (tag [1]) in the SubjectAltName extension. */
function sanOf(v: Uint8Array | undefined): string | undefined {
  if (!v) return undefined;
  const seq = readTlv(v, 0, v.length);
  for (const n of children(v, seq)) {
    if (n.tag === 0x86 || n.tag === 0x81) return utf8.decode(v.subarray(n.start, n.end));
  }
  return undefined;
}

/**
 * The workflow identity of a Fulcio certificate (see the module doc).
 *
 * @param der the leaf certificate, DER
 * @throws Error when it cannot be read (the caller reports it as a malformed bundle)
 */
export function fulcioIdentity(der: Uint8Array): FulcioIdentity {
  const ext = certificateExtensions(der);
  const text = (oid: string) => {
    const v = ext.get(oid);
    return v === undefined ? undefined : extText(v);
  };
  return {
    san: sanOf(ext.get("2.5.29.17")),
    issuer: text(FULCIO_OID.issuer) ?? text(FULCIO_OID.issuerV1),
    buildSignerUri: text(FULCIO_OID.buildSignerUri),
    runnerEnvironment: text(FULCIO_OID.runnerEnvironment),
    sourceRepositoryUri: text(FULCIO_OID.sourceRepositoryUri),
    sourceRepositoryDigest: text(FULCIO_OID.sourceRepositoryDigest),
    sourceRepositoryRef: text(FULCIO_OID.sourceRepositoryRef),
    buildConfigUri: text(FULCIO_OID.buildConfigUri),
  };
}
