/**
 * The few DER (ITU-T X.690) shapes an Ed25519 key needs: PKCS#8 `OneAsymmetricKey` (RFC 5958) and
 * `SubjectPublicKeyInfo` (RFC 5280), both with the id-Ed25519 algorithm (RFC 8410). Hand-written so the
 * whole parser fits on a screen: definite lengths only, minimal length encodings, no trailing bytes.
 *
 * @module
 */

/** The DER of `AlgorithmIdentifier { id-Ed25519 }` (OID 1.3.101.112, parameters absent, RFC 8410 §3). */
const ED25519_ALGORITHM = Uint8Array.of(0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70);

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const OCTET_STRING = 0x04;
const BIT_STRING = 0x03;
const CONTEXT_0_CONSTRUCTED = 0xa0; // [0] attributes
const CONTEXT_1_PRIMITIVE = 0x81; // [1] IMPLICIT publicKey BIT STRING

interface Tlv {
  tag: number;
  value: Uint8Array;
  /** The whole encoding, tag and length included. */
  raw: Uint8Array;
}

/** Reads the TLV at `off`; returns it and the offset after it. */
function readTlv(buf: Uint8Array, off: number): { tlv: Tlv; next: number } {
  if (off + 2 > buf.length) throw new Error("truncated DER");
  const tag = buf[off];
  if ((tag & 0x1f) === 0x1f) throw new Error("unsupported DER tag");
  let len = buf[off + 1];
  let p = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3) throw new Error("unsupported DER length");
    if (p + n > buf.length) throw new Error("truncated DER");
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | buf[p + i];
    if (len < 0x80 || buf[p] === 0) throw new Error("non-minimal DER length");
    p += n;
  }
  if (p + len > buf.length) throw new Error("truncated DER");
  return { tlv: { tag, value: buf.subarray(p, p + len), raw: buf.subarray(off, p + len) }, next: p + len };
}

/** Splits the contents of a constructed value into its TLVs. */
function children(value: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  for (let off = 0; off < value.length;) {
    const { tlv, next } = readTlv(value, off);
    out.push(tlv);
    off = next;
  }
  return out;
}

/** Reads exactly one TLV spanning all of `der`, with the expected tag. */
function single(der: Uint8Array, tag: number, what: string): Tlv {
  const { tlv, next } = readTlv(der, 0);
  if (tlv.tag !== tag || next !== der.length) throw new Error(`not a DER ${what}`);
  return tlv;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function algorithmError(alg: Tlv): Error {
  return equal(alg.raw, ED25519_ALGORITHM) ? new Error("malformed Ed25519 key") : new Error(
    "not an Ed25519 key (mcptrust signs with Ed25519 only; RFC 8410 algorithm 1.3.101.112)",
  );
}

/**
 * Parses a PKCS#8 Ed25519 private key (RFC 8410 §7; v1 and v2 `OneAsymmetricKey` of RFC 5958).
 *
 * @param der the DER bytes of a "PRIVATE KEY" PEM block
 * @returns the 32-byte seed and, when the encoding carries one (v2), the 32-byte public key
 * @throws {Error} when the structure is not an Ed25519 PKCS#8 key
 */
export function parsePkcs8Ed25519(der: Uint8Array): { seed: Uint8Array; publicKey?: Uint8Array } {
  const parts = children(single(der, SEQUENCE, "PKCS#8 private key").value);
  if (parts.length < 3 || parts.length > 5) throw new Error("malformed PKCS#8 private key");
  const [version, alg, key, ...rest] = parts;
  if (version.tag !== INTEGER || version.value.length !== 1 || version.value[0] > 1) {
    throw new Error("unsupported PKCS#8 version");
  }
  if (!equal(alg.raw, ED25519_ALGORITHM)) throw algorithmError(alg);
  if (key.tag !== OCTET_STRING) throw new Error("malformed PKCS#8 private key");
  const inner = single(key.value, OCTET_STRING, "CurvePrivateKey");
  if (inner.value.length !== 32) throw new Error("an Ed25519 private key must be 32 bytes");
  // Optional trailing fields, in this order: [0] attributes (ignored), [1] publicKey (v2 only).
  let publicKey: Uint8Array | undefined;
  let i = 0;
  if (rest[i]?.tag === CONTEXT_0_CONSTRUCTED) i++;
  if (rest[i]?.tag === CONTEXT_1_PRIMITIVE && version.value[0] === 1) {
    const bits = rest[i].value;
    if (bits.length !== 33 || bits[0] !== 0) throw new Error("malformed PKCS#8 public key");
    publicKey = bits.slice(1);
    i++;
  }
  if (i !== rest.length) throw new Error("malformed PKCS#8 private key");
  return { seed: inner.value.slice(), publicKey };
}

/**
 * Parses an Ed25519 SubjectPublicKeyInfo (RFC 8410 §4).
 *
 * @param der the DER bytes of a "PUBLIC KEY" PEM block
 * @returns the 32-byte public key
 * @throws {Error} when the structure is not an Ed25519 SPKI
 */
export function parseSpkiEd25519(der: Uint8Array): Uint8Array {
  const parts = children(single(der, SEQUENCE, "SubjectPublicKeyInfo").value);
  if (parts.length !== 2) throw new Error("malformed SubjectPublicKeyInfo");
  const [alg, bits] = parts;
  if (!equal(alg.raw, ED25519_ALGORITHM)) throw algorithmError(alg);
  if (bits.tag !== BIT_STRING || bits.value.length !== 33 || bits.value[0] !== 0) {
    throw new Error("an Ed25519 public key must be 32 bytes");
  }
  return bits.value.slice(1);
}

/** PKCS#8 v1 DER of an Ed25519 seed: the 48-byte form OpenSSL and Go's x509 package write. */
export function encodePkcs8Ed25519(seed: Uint8Array): Uint8Array {
  if (seed.length !== 32) throw new Error("an Ed25519 seed is 32 bytes");
  return Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, ...ED25519_ALGORITHM, 0x04, 0x22, 0x04, 0x20, ...seed);
}

/** SubjectPublicKeyInfo DER of an Ed25519 public key (44 bytes). */
export function encodeSpkiEd25519(publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== 32) throw new Error("an Ed25519 public key is 32 bytes");
  return Uint8Array.of(0x30, 0x2a, ...ED25519_ALGORITHM, 0x03, 0x21, 0x00, ...publicKey);
}
