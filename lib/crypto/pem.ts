/**
 * PEM armour (RFC 7468): one `-----BEGIN <label>-----` block of base64 between matching BEGIN and END
 * lines. Used for both key encodings: PKCS#8 / SPKI ("PRIVATE KEY" / "PUBLIC KEY") and the Go tool's raw
 * "ED25519 PRIVATE KEY" / "ED25519 PUBLIC KEY" blocks.
 *
 * @module
 */

/** A decoded PEM block. */
export interface PemBlock {
  /** The label between `BEGIN ` and the dashes, e.g. "PUBLIC KEY". */
  label: string;
  /** The decoded body. */
  der: Uint8Array;
}

/**
 * Encodes bytes as a PEM block with 64-character lines and a trailing newline, as Go's `pem.Encode`
 * and OpenSSL write it.
 */
export function encodePem(label: string, der: Uint8Array): string {
  const b64 = bytesToBase64(der);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * Decodes the single PEM block in `text`.
 *
 * Strict on purpose: exactly one block, only whitespace around it, matching BEGIN/END labels, no RFC 1421
 * headers (`Proc-Type: 4,ENCRYPTED` marks an encrypted legacy key we cannot use), canonical base64.
 *
 * @returns the label and decoded bytes
 * @throws {Error} with a one-line reason (the caller adds the file name)
 */
export function decodePem(text: string): PemBlock {
  const trimmed = text.trim();
  const begin = /^-----BEGIN ([A-Z0-9 ]+)-----\r?\n/.exec(trimmed);
  if (!begin) {
    throw new Error(
      trimmed === "" ? "the file is empty" : "no PEM block found (expected a line -----BEGIN ...-----)",
    );
  }
  const label = begin[1];
  const endLine = `-----END ${label}-----`;
  const endAt = trimmed.indexOf("-----END ");
  if (endAt < 0) throw new Error(`the PEM block "${label}" has no END line (is the file truncated?)`);
  if (!trimmed.startsWith(endLine, endAt)) {
    throw new Error(`the PEM block "${label}" ends with a different label`);
  }
  if (trimmed.length !== endAt + endLine.length) {
    throw new Error("unexpected text after the PEM block (expected exactly one block)");
  }
  const body = trimmed.slice(begin[0].length, endAt);
  if (body.includes(":")) throw new Error("the PEM block has headers (an encrypted key?); decrypt it first");
  const b64 = body.replace(/[ \t\r\n]/g, "");
  const der = base64ToBytes(b64);
  if (der === undefined) throw new Error(`the PEM block "${label}" does not contain valid base64`);
  return { label, der };
}

/** Standard base64 (RFC 4648 §4) with padding. */
export function bytesToBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

/**
 * Decodes standard, padded base64 (RFC 4648 §4), rejecting other alphabets, missing padding and
 * non-zero trailing bits, so each byte string has exactly one accepted encoding (as Go's
 * `base64.StdEncoding.Strict()`).
 *
 * @returns the bytes, or undefined if `b64` is not canonical base64
 */
export function base64ToBytes(b64: string): Uint8Array | undefined {
  if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return undefined;
  let bin: string;
  try {
    bin = atob(b64);
  } catch {
    return undefined;
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  // Re-encoding must give the input back; this rejects non-zero padding bits.
  return bytesToBase64(out) === b64 ? out : undefined;
}
